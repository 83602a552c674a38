import type { Logger } from '../logger.js';
import type { ServiceName } from '../upstreams/services.js';
import { UPSTREAM_ERRORS, type UpstreamErrorCode } from './vocabulary.js';

/** What the transport learnt about a failure, for retry and circuit-breaker decisions. */
export type UpstreamFailureDetail = {
  /** HTTP status, when the upstream answered at all. */
  status?: number;
  /** From a 429's `Retry-After`, when present and readable. */
  retryAfterMs?: number;
  /**
   * Whether the failure says something about the upstream's health. False when the
   * cause was ours: the client left, or the request deadline (not the upstream's
   * own timeout) cut the call short.
   */
  upstreamAtFault?: boolean;
  cause?: unknown;
};

/**
 * An upstream call failed. `message` is for logs (it may name the URL); clients only
 * ever see `code`, `service` and a fixed public message, via `toGraphQLError`.
 */
export class UpstreamError extends Error {
  override name = 'UpstreamError';

  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly upstreamAtFault: boolean;

  constructor(
    readonly service: ServiceName,
    readonly code: UpstreamErrorCode,
    message: string,
    { cause, status, retryAfterMs, upstreamAtFault = true }: UpstreamFailureDetail = {},
  ) {
    super(message, { cause });
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.upstreamAtFault = upstreamAtFault;
  }

  get publicMessage(): string {
    return UPSTREAM_ERRORS[this.code](this.service);
  }
}

/**
 * Builds an upstream failure and logs it, once: the one place both happen, for
 * the transport (timeouts, statuses, broken bodies) and for payload validation.
 */
export function upstreamFailure(
  logger: Logger,
  service: ServiceName,
  code: UpstreamErrorCode,
  message: string,
  detail: UpstreamFailureDetail = {},
): UpstreamError {
  logger.warn(`[${service}] ${code} ${message}`);
  return new UpstreamError(service, code, message, detail);
}
