import type { Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import type { GatewayContext } from '../context.js';
import { UpstreamError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { operationName } from '../observability/operation-name.js';
import { requestIdOf } from '../observability/request-id.js';

/** Options of `useObservability`. */
export type ObservabilityOptions = {
  metrics: Metrics;
  /** One structured line per GraphQL request. */
  logger: Logger;
  /** Add `Server-Timing` to non-incremental responses. Default true. */
  serverTiming?: boolean;
  /** Where Prometheus scrapes; `null`: not served. Default `/metrics`. */
  metricsEndpoint?: string | null;
};

type Seen = {
  started: number;
  context?: GatewayContext;
  operation?: string;
  fields?: Record<string, string>;
};

/**
 * Request id, Server-Timing, request metrics and the request log line, all from
 * one view of the request: where it started, its context, and its result.
 *
 * The log line carries the request id, operation, status, duration and each
 * homepage field's outcome (`ok`, an error code, `stale`, `fallback:<name>`).
 * Never a header value, token or user id.
 */
export function useObservability({
  metrics,
  logger,
  serverTiming = true,
  metricsEndpoint = '/metrics',
}: ObservabilityOptions): Plugin {
  const seen = new WeakMap<Request, Seen>();
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname === metricsEndpoint && request.method === 'GET') {
        endResponse(
          new fetchAPI.Response(await metrics.registry.metrics(), {
            headers: { 'content-type': metrics.registry.contentType },
          }),
        );
        return;
      }
      seen.set(request, { started: performance.now() });
    },
    onExecute({ args }) {
      const context = args.contextValue as unknown as GatewayContext & { request: Request };
      const entry = seen.get(context.request);
      if (!entry) return;
      entry.context = context;
      entry.operation = operationName(args.operationName, args.document);
      return {
        onExecuteDone({ result }) {
          if (!(Symbol.asyncIterator in result)) entry.fields = fieldOutcomes(result, context);
        },
      };
    },
    onResponse({ request, response }) {
      const entry = seen.get(request);
      if (!entry) return;
      const durationMs = performance.now() - entry.started;
      const requestId = requestIdOf(request);
      response.headers.set('x-request-id', requestId);
      const incremental = /multipart|event-stream/.test(response.headers.get('content-type') ?? '');
      if (serverTiming && entry.context && !incremental) {
        response.headers.set('server-timing', serverTimingHeader(entry.context, durationMs));
      }
      if (entry.operation === undefined) return; // Not a GraphQL execution (GraphiQL, /health…).
      metrics.observeRequest(entry.operation, durationMs / 1000);
      logger.info({
        msg: 'graphql request',
        requestId,
        operation: entry.operation,
        status: response.status,
        durationMs: Math.round(durationMs * 10) / 10,
        fields: entry.fields,
      });
    },
  };
}

// Private helpers.

function serverTimingHeader(context: GatewayContext, totalMs: number): string {
  const entries = context.timings.map(
    ({ name, durationMs, description }) =>
      `${name};dur=${durationMs.toFixed(1)};desc="${description}"`,
  );
  return [...entries, `total;dur=${totalMs.toFixed(1)}`].join(', ');
}

/** Each top-level homepage field's outcome, from the result's errors and notes. */
function fieldOutcomes(result: ExecutionResult, context: GatewayContext): Record<string, string> {
  const outcomes: Record<string, string> = {};
  const homepage = (result.data as { homepage?: Record<string, unknown> } | null | undefined)
    ?.homepage;
  for (const field of Object.keys(homepage ?? {})) outcomes[field] = 'ok';
  for (const note of context.notes.stale) outcomes[String(note.path[1])] = 'stale';
  for (const note of context.notes.fallbacks) {
    outcomes[String(note.path[1])] = `fallback:${note.fallback}`;
  }
  for (const error of result.errors ?? []) {
    const field = error.path?.[1];
    if (field === undefined) continue;
    // Errors are not masked yet here: an upstream failure still carries its cause.
    const original = error.originalError;
    const code =
      original instanceof UpstreamError
        ? original.code
        : String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
    // A failed book is reported on its list: "promo" with CATALOG errors inside.
    outcomes[String(field)] = error.path?.length === 2 ? code : `ok, book ${code}`;
  }
  return outcomes;
}
