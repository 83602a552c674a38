import { HTTPError } from 'ky';
import type { UpstreamFailureDetail } from '../errors/upstream-error.js';
import type { UpstreamErrorCode } from '../errors/vocabulary.js';
import { BodyTooLargeError } from './read-body.js';
import { retryAfterMs } from './response-headers.js';

/** What went wrong with one attempt, as the code a client sees and what retries need. */
export type Classified = UpstreamFailureDetail & { code: UpstreamErrorCode };

/**
 * The one mapping from an HTTP status to an upstream error code: 429 is rate
 * limiting, 5xx says the service is unwell, any other non-2xx is an answer we
 * cannot use (a broken contract, not an outage).
 */
export function codeForStatus(status: number): UpstreamErrorCode {
  if (status === 429) return 'UPSTREAM_RATE_LIMITED';
  return status >= 500 ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_BAD_RESPONSE';
}

/**
 * Classifies an attempt's failure. `timedOut`: our per-attempt timer fired;
 * `upstreamsTimeout`: that timeout is the upstream's fault: the timer was the
 * upstream's own timeout rather than what was left of the request deadline,
 * and this process was not itself saturated (upstream-client.ts).
 */
export function classifyFailure(
  error: unknown,
  timedOut: boolean,
  upstreamsTimeout: boolean,
): Classified {
  if (timedOut) return { code: 'UPSTREAM_TIMEOUT', upstreamAtFault: upstreamsTimeout };
  if (error instanceof BodyTooLargeError) return { code: 'UPSTREAM_BAD_RESPONSE' };
  if (error instanceof HTTPError) {
    const { status, headers } = error.response;
    const code = codeForStatus(status);
    if (code === 'UPSTREAM_RATE_LIMITED') {
      return { code, status, retryAfterMs: retryAfterMs(headers.get('retry-after')) };
    }
    return { code, status };
  }
  if (error instanceof Error && error.name === 'AbortError') {
    // Not our deadline: the client went away.
    return { code: 'UPSTREAM_UNAVAILABLE', upstreamAtFault: false };
  }
  // Refused, reset, DNS, or the body stream broke: the service is not reachable.
  return { code: 'UPSTREAM_UNAVAILABLE' };
}

/** A failure in words, for the log line (never for clients). */
export function describeFailure(error: unknown, budgetMs: number): string {
  if (error instanceof HTTPError) return `HTTP ${error.response.status}`;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no complete response within ${budgetMs} ms`;
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
