import { GraphQLError } from 'graphql';
import type { ServiceName } from '../upstreams/services.js';

// Every code a client can see, with its public message, in one place. Codes say
// what happened, never how: no URL, status line, stack or validation detail
// reaches a client (those go to the log).

/**
 * Codes that refuse a whole request, each with its HTTP status and the message a
 * client sees unless the refusal has something more precise to say.
 */
export const REQUEST_ERRORS = {
  BAD_REQUEST: {
    status: 400,
    message: 'The request is not a GraphQL request this gateway can serve.',
  },
  /** A path the gateway does not serve (src/inbound/routes.ts): refused before any work. */
  NOT_FOUND: { status: 404, message: 'Nothing is served at this path: send GraphQL to /graphql.' },
  UNAUTHENTICATED: { status: 401, message: 'The access token is invalid.' },
  AUTH_UNAVAILABLE: {
    status: 503,
    message: 'Sign-in cannot be checked right now; try again shortly.',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'Too many pages in a minute; try again after Retry-After seconds.',
  },
  QUERY_LIMIT_EXCEEDED: { status: 400, message: 'The operation is over a query limit.' },
  /**
   * The message is what Apollo clients and urql match to retry with the text.
   * Automatic persisted queries answer it with 200 (see use-trusted-documents.ts).
   */
  PERSISTED_QUERY_NOT_FOUND: { status: 400, message: 'PersistedQueryNotFound' },
  /** APQ is off (`APQ_CACHE_MAX_BYTES=0`): Apollo clients stop hashing first for the session. */
  PERSISTED_QUERY_NOT_SUPPORTED: { status: 400, message: 'PersistedQueryNotSupported' },
  PERSISTED_QUERY_HASH_MISMATCH: {
    status: 400,
    message: 'The query does not match its sha256Hash: hash the exact text sent.',
  },
  /** An APQ registration over APQ_MAX_DOCUMENT_BYTES (comments and whitespace count). */
  PERSISTED_QUERY_TOO_LARGE: {
    status: 400,
    message: 'The document is too large to register: send the query without its hash.',
  },
  PERSISTED_QUERY_ONLY: {
    status: 400,
    message: 'Only trusted documents are accepted: send a documentId.',
  },
  CSRF_PREVENTED: {
    status: 403,
    message:
      'Possible cross-site request: send Content-Type: application/json, or a header such as apollo-require-preflight: true or graphql-preflight: 1.',
  },
  SSE_SINGLE_CONNECTION_UNSUPPORTED: {
    status: 405,
    message:
      "graphql-sse's single connection mode is not supported: use its distinct connections mode (singleConnection: false, the default).",
  },
  OVERLOADED: {
    status: 503,
    message: 'The gateway is busy; try again shortly.',
  },
  /** `POST /admin/purge` (inbound/admin-purge.ts) without the right `ADMIN_TOKEN`. */
  ADMIN_UNAUTHORIZED: {
    status: 401,
    message: 'Send Authorization: Bearer <ADMIN_TOKEN>.',
  },
  PURGE_INVALID: {
    status: 400,
    message:
      'Name what to purge: ?cache=promo|books|pages|all (and ?tag=<book id> only with cache=books).',
  },
  /** Memory purged, Redis not (down or slow): other replicas may still serve what was purged. */
  PURGE_INCOMPLETE: {
    status: 503,
    message: "This replica's memory was purged, but Redis could not be: try again.",
  },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This endpoint answers POST only.' },
} as const satisfies Record<string, { status: number; message: string }>;
export type RequestErrorCode = keyof typeof REQUEST_ERRORS;

/** Codes of one upstream's failure, reported on the field it left `null`. */
export const UPSTREAM_ERRORS = {
  UPSTREAM_TIMEOUT: (service: ServiceName) => `The ${service} service did not answer in time.`,
  UPSTREAM_UNAVAILABLE: (service: ServiceName) => `The ${service} service is unavailable.`,
  UPSTREAM_BAD_RESPONSE: (service: ServiceName) =>
    `The ${service} service sent a response we could not use.`,
  UPSTREAM_RATE_LIMITED: (service: ServiceName) => `The ${service} service asked us to slow down.`,
} as const;
export type UpstreamErrorCode = keyof typeof UPSTREAM_ERRORS;

/** Codes on one field, the rest of the page intact. */
export const FIELD_ERRORS = {
  /** A bad argument from the client: never masked. */
  BAD_USER_INPUT: 'The argument is out of range.',
  /** Anything unexpected: the detail is logged, never shown. */
  INTERNAL_SERVER_ERROR: 'Unexpected error.',
} as const;
export type FieldErrorCode = keyof typeof FIELD_ERRORS;

export type ErrorCode = RequestErrorCode | UpstreamErrorCode | FieldErrorCode;

/** Refuses the whole request with `code`'s status (yoga turns `extensions.http` into the response). */
export function requestError(
  code: RequestErrorCode,
  {
    message,
    status,
    headers,
  }: { message?: string; status?: number; headers?: Record<string, string> } = {},
): GraphQLError {
  const declared = REQUEST_ERRORS[code];
  return new GraphQLError(message ?? declared.message, {
    extensions: {
      code,
      http: { status: status ?? declared.status, ...(headers && { headers }) },
    },
  });
}

/** A missing-but-required or invalid credential: the whole request fails with 401. */
export function unauthenticated(message: string): GraphQLError {
  return requestError('UNAUTHENTICATED', {
    message,
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  });
}

/** A bad argument from the client: reported as `BAD_USER_INPUT`, never masked. */
export function badUserInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/**
 * A refusal answered before yoga reads the request (size limits, an unservable
 * `Accept`), as a GraphQL over HTTP error body: the one place such bodies are built.
 */
export function errorResponse(
  code: RequestErrorCode,
  {
    message,
    status,
    headers,
  }: { message?: string; status?: number; headers?: Record<string, string> } = {},
): Response {
  return new Response(errorBody(code, { message }), {
    status: status ?? REQUEST_ERRORS[code].status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/**
 * The body of `errorResponse`, `{"errors":[{"message","extensions":{"code"}}]}`,
 * on its own: for front steps that write Node's response directly and build the
 * bytes once (load shedding).
 */
export function errorBody(code: RequestErrorCode, { message }: { message?: string } = {}): string {
  const body = {
    errors: [{ message: message ?? REQUEST_ERRORS[code].message, extensions: { code } }],
  };
  return JSON.stringify(body);
}
