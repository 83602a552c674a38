import type { Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import type { YogaInitialContext } from 'graphql-yoga';
import { codeOf } from '../errors/to-graphql-error.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import { operationName } from '../observability/operation-name.js';
import type { RequestRecord, RequestRecords } from '../observability/request-record.js';

/** Options of `useObservability`. */
export type ObservabilityOptions = {
  metrics: Metrics;
  /** What each request did (request-record.ts). */
  records: RequestRecords;
  /** One structured line per GraphQL request. */
  logger: Logger;
  /** Add `Server-Timing` to non-incremental responses. Default true. */
  serverTiming?: boolean;
  /** Where Prometheus scrapes; `null`: not served. Default `/metrics`. */
  metricsEndpoint?: string | null;
};

/** What the plugin learns of a request as it executes. */
type Seen = {
  executed: boolean;
  operation?: string;
  fields?: Record<string, string>;
};

/**
 * Request id, Server-Timing, request metrics and the request log line, all from
 * one view of the request: where it started, its context, and its result.
 *
 * The log line carries the request id, operation, status, duration and the
 * outcome of each list field the request's record tracked (`ok`, an error code,
 * `stale`, `fallback:<name>`).
 * Never a header value, token or user id.
 */
export function useObservability({
  metrics,
  records,
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
      records.of(request); // Starts the clock.
      seen.set(request, { executed: false });
    },
    onExecute({ args }) {
      const { request } = args.contextValue as YogaInitialContext;
      const entry = seen.get(request);
      if (!entry) return;
      const record = records.of(request);
      entry.executed = true;
      entry.operation = operationName(args.operationName, args.document);
      return {
        onExecuteDone({ result }) {
          if (!(Symbol.asyncIterator in result)) entry.fields = fieldOutcomes(result, record);
        },
      };
    },
    onResponse({ request, response }) {
      const entry = seen.get(request);
      if (!entry) return;
      const record = records.of(request);
      const durationMs = performance.now() - record.startedAt;
      const requestId = record.requestId;
      response.headers.set('x-request-id', requestId);
      const incremental = /multipart|event-stream/.test(response.headers.get('content-type') ?? '');
      if (serverTiming && entry.executed && !incremental) {
        response.headers.set('server-timing', serverTimingHeader(record, durationMs));
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

function serverTimingHeader(record: RequestRecord, totalMs: number): string {
  const entries = record.timings.map(
    ({ name, durationMs, description }) =>
      `${name};dur=${durationMs.toFixed(1)};desc="${description}"`,
  );
  return [...entries, `total;dur=${totalMs.toFixed(1)}`].join(', ');
}

/**
 * The outcome of each list field the record tracked, keyed by its response name:
 * `ok`, `stale`, `fallback:<name>`, the code of its own error, or `ok, <field>
 * <code>` for an error below it (a failed book on a list that arrived).
 */
function fieldOutcomes(result: ExecutionResult, record: RequestRecord): Record<string, string> {
  const outcomes: Record<string, string> = {};
  const key = (path: ReadonlyArray<string | number>) => path.join('.');
  const names = new Map(record.fields.map((path) => [key(path), String(path.at(-1))]));
  for (const name of names.values()) outcomes[name] = 'ok';
  for (const note of record.stale) outcomes[String(note.path.at(-1))] = 'stale';
  for (const note of record.fallbacks) {
    outcomes[String(note.path.at(-1))] = `fallback:${note.fallback}`;
  }
  for (const error of result.errors ?? []) {
    const path = error.path ?? [];
    // Errors are not masked yet here: an upstream failure still carries its cause.
    for (let length = path.length; length > 0; length--) {
      const name = names.get(key(path.slice(0, length)));
      if (name === undefined) continue;
      outcomes[name] =
        length === path.length ? codeOf(error) : `ok, ${String(path.at(-1))} ${codeOf(error)}`;
      break;
    }
  }
  return outcomes;
}
