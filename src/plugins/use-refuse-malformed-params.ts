import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { requestError } from '../errors/vocabulary.js';

/**
 * Malformed request parameters (`variables` or `extensions` that are not JSON,
 * in a GET's query string or a form body) become a 400 `BAD_REQUEST`. yoga's
 * parsers let the `SyntaxError` escape: it answered 200 "Unexpected error." and
 * logged two error-level lines with stacks, so anyone could page the on-call
 * with one URL. A refusal is logged once, at info, by the request log.
 *
 * Registered after yoga's own parsers (user plugins come after them), it wraps
 * whichever parser matched. A parser's own GraphQL errors pass through without
 * `extensions.originalError`, where yoga's JSON parser echoed its `SyntaxError`
 * (and so the body) to the client.
 */
export function useRefuseMalformedParams(): Plugin {
  const refuse = (error: unknown): never => {
    if (error instanceof GraphQLError) {
      if (error.extensions.originalError === undefined) throw error;
      // yoga's JSON parser puts the SyntaxError and the body it read there: a
      // 400 with its message only (yoga's own would be 200 for application/json).
      throw requestError('BAD_REQUEST', { message: error.message });
    }
    throw requestError('BAD_REQUEST', {
      message:
        'The request parameters are malformed: variables and extensions must be JSON objects.',
    });
  };
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (requestParser === undefined) return;
      setRequestParser((request) => {
        try {
          const parsed = requestParser(request);
          return parsed instanceof Promise ? parsed.catch(refuse) : parsed;
        } catch (error) {
          return refuse(error);
        }
      });
    },
  };
}
