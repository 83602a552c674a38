import type { UpstreamError } from '../errors/upstream-error.js';
import type { UpstreamPolicy } from '../upstreams/policy.js';

/** Statuses worth another attempt: the upstream (or its proxy) is briefly unwell. */
const RETRYABLE_STATUSES = new Set([502, 503, 504]);

/**
 * How long to wait before retrying after attempt `attemptNo` (0-based) failed
 * with `error`, or `undefined` to give up now. Only failures that say the
 * upstream is unwell are retried: connection errors and 502/503/504, after a
 * "full jitter" delay (uniform in [0, min(maxMs, baseMs·2ⁿ)]), and a 429 only
 * after the `Retry-After` it gave. Whether the delay still fits the request's
 * deadline is the caller's decision.
 */
export function retryDelayMs(
  error: Pick<UpstreamError, 'code' | 'status' | 'retryAfterMs' | 'upstreamAtFault'>,
  attemptNo: number,
  policy: Pick<UpstreamPolicy, 'retries' | 'backoff'>,
  random: () => number = Math.random,
): number | undefined {
  if (attemptNo >= policy.retries || !error.upstreamAtFault) return undefined;
  // A 429 is retried only when the upstream says when; without that we fail fast.
  if (error.code === 'UPSTREAM_RATE_LIMITED') return error.retryAfterMs;
  const transient =
    error.code === 'UPSTREAM_UNAVAILABLE' &&
    (error.status === undefined || RETRYABLE_STATUSES.has(error.status));
  if (!transient) return undefined;
  return random() * Math.min(policy.backoff.maxMs, policy.backoff.baseMs * 2 ** attemptNo);
}
