import { GraphQLError } from 'graphql';
import { UpstreamError } from './upstream-error.js';
import type { ErrorCode } from './vocabulary.js';

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

/** The code a failure will show its client as, for logs and metrics (before masking). */
export function codeOf(error: GraphQLError): ErrorCode | string {
  const original = error.originalError;
  if (original instanceof UpstreamError) return original.code;
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}
