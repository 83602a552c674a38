import { GraphQLError } from 'graphql';

/** The upstream services the gateway calls, as named in error extensions. */
export type ServiceName = 'promo' | 'recommendations' | 'catalog';

/**
 * Stable codes a client can branch on. They say what happened, never how: no URL,
 * status line, stack or validation detail reaches a client.
 */
export type UpstreamErrorCode =
  'UPSTREAM_TIMEOUT' | 'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_BAD_RESPONSE' | 'UPSTREAM_RATE_LIMITED';

const publicMessages: Record<UpstreamErrorCode, (service: ServiceName) => string> = {
  UPSTREAM_TIMEOUT: (service) => `The ${service} service did not answer in time.`,
  UPSTREAM_UNAVAILABLE: (service) => `The ${service} service is unavailable.`,
  UPSTREAM_BAD_RESPONSE: (service) => `The ${service} service sent a response we could not use.`,
  UPSTREAM_RATE_LIMITED: (service) => `The ${service} service asked us to slow down.`,
};

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
    return publicMessages[this.code](this.service);
  }
}

/** A bad argument from the client: reported as `BAD_USER_INPUT`, never masked. */
export function badUserInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/** A missing-but-required or invalid credential: the whole request fails with 401. */
export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } },
    },
  });
}

/**
 * The one mapping from failures to what a client sees, used as yoga's `maskError`.
 * Upstream failures become coded errors at their field's path; GraphQL errors we
 * raised on purpose pass through; anything else is masked (and logged by yoga).
 */
export function toGraphQLError(error: unknown, maskedMessage: string): Error {
  if (!(error instanceof GraphQLError)) return new GraphQLError(maskedMessage);
  const original = error.originalError;
  if (original instanceof UpstreamError) {
    return new GraphQLError(original.publicMessage, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions: { code: original.code, service: original.service },
    });
  }
  // Errors we created deliberately (or yoga's own) carry a code or status: keep them.
  if (original === undefined || original instanceof GraphQLError) return error;
  return new GraphQLError(maskedMessage, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}
