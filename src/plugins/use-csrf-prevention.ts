import type { Plugin } from 'graphql-yoga';
import { requestError } from '../errors/vocabulary.js';

/**
 * Headers that prove a request was preflighted (a browser sends a custom header
 * cross-origin only after CORS allowed it): yoga's, Apollo Server's, the
 * GraphQL over HTTP draft's, and what Apollo's iOS and Kotlin clients send.
 */
export const PREFLIGHT_HEADERS = [
  'x-graphql-yoga-csrf',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'graphql-preflight',
] as const;

/** Content types a cross-site form or `fetch` may send without a preflight. */
const SIMPLE_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);

/**
 * Refuses GraphQL requests a cross-site page could have sent without a
 * preflight (Apollo Server's rule): no `Content-Type`, or a form's, and none of
 * the preflight headers. JSON bodies and the headers above pass. The refusal is
 * a coded GraphQL error (`CSRF_PREVENTED`, 403) that says what to send.
 */
export function useCsrfPrevention(): Plugin {
  return {
    onRequestParse({ request }) {
      // The first Content-Type, the one yoga parses the body as: repeated ones
      // arrive joined (`form, application/json`), which read whole passed as JSON.
      const type = request.headers
        .get('content-type')
        ?.split(',')[0]
        ?.split(';')[0]
        ?.trim()
        .toLowerCase();
      if (type !== undefined && type !== '' && !SIMPLE_TYPES.has(type)) return;
      if (PREFLIGHT_HEADERS.some((name) => request.headers.has(name))) return;
      throw requestError('CSRF_PREVENTED');
    },
  };
}
