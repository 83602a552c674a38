import type { Plugin } from 'graphql-yoga';

const explanations: Record<number, string> = {
  406: 'Accept application/graphql-response+json, application/json or text/event-stream.',
  415: 'Send the request as application/json (or GET with a query string).',
};

/**
 * yoga answers an unsupported `Accept` (406) or `Content-Type` (415) with an
 * empty body; clients get a GraphQL error saying what to send instead.
 */
export function useExplainedHttpErrors(): Plugin {
  return {
    async onResponse({ response, setResponse, fetchAPI }) {
      const message = explanations[response.status];
      if (message === undefined || (await response.clone().text()) !== '') return;
      setResponse(
        new fetchAPI.Response(
          JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }),
          {
            status: response.status,
            headers: { 'content-type': 'application/json; charset=utf-8' },
          },
        ),
      );
    },
  };
}
