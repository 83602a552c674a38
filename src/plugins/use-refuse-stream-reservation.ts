import type { Plugin } from 'graphql-yoga';
import { errorResponse } from '../errors/vocabulary.js';

/**
 * graphql-sse's single connection mode starts with `PUT /graphql` to reserve a
 * stream. The gateway serves subscriptions and incremental delivery in the
 * distinct connections mode only (one `text/event-stream` response per
 * operation, yoga's own): graphql-sse's plugin for the other mode runs
 * operations past the request plugins (trusted documents, CSRF, limits). So the
 * reservation is refused at once, with a code and a message naming the mode
 * that works, instead of a 411 the client retries five times.
 */
export function useRefuseStreamReservation({ endpoint = '/graphql' } = {}): Plugin {
  return {
    onRequest({ request, url, endResponse }) {
      if (request.method !== 'PUT' || url.pathname !== endpoint) return;
      endResponse(
        errorResponse('SSE_SINGLE_CONNECTION_UNSUPPORTED', { headers: { allow: 'GET, POST' } }),
      );
    },
  };
}
