import type { Plugin } from 'graphql-yoga';
import { errorResponse } from '../errors/vocabulary.js';

/** Media ranges a GraphQL response can satisfy (GraphQL over HTTP, incremental delivery, GraphiQL). */
const SERVABLE = new Set([
  '*/*',
  'application/*',
  'application/graphql-response+json',
  'application/json',
  'multipart/*',
  'multipart/mixed',
  'text/*',
  'text/event-stream',
  'text/html',
]);

const explanations: Record<number, string> = {
  406: 'Accept application/graphql-response+json, application/json or text/event-stream.',
  415: 'Send the request as application/json (or GET with a query string).',
};

/**
 * Two gaps in yoga's GraphQL over HTTP handling, closed before they cost anything:
 * an `Accept` it cannot satisfy is refused with 406 *before* execution (yoga runs
 * the operation, upstream calls and all, then answers 406), and its empty 406 and
 * 415 bodies become a GraphQL error saying what to send instead.
 */
export function useExplainedHttpErrors(): Plugin {
  const explain = (status: number) =>
    errorResponse('BAD_REQUEST', { status, message: explanations[status] });
  return {
    onRequest({ request, url, endResponse }) {
      if (url.pathname !== '/graphql') return;
      const accept = request.headers.get('accept');
      if (accept === null || accept.trim() === '') return;
      const ranges = accept
        .split(',')
        .map((range) => range.split(';')[0]?.trim().toLowerCase() ?? '');
      if (!ranges.some((range) => SERVABLE.has(range))) endResponse(explain(406));
    },
    async onResponse({ response, setResponse }) {
      if (explanations[response.status] === undefined) return;
      if ((await response.clone().text()) !== '') return;
      setResponse(explain(response.status));
    },
  };
}
