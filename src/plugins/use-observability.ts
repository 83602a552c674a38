import type { Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import type { YogaInitialContext } from 'graphql-yoga';
import { codeOf } from '../errors/to-graphql-error.js';
import { clientOf, type ClientIdentity } from '../observability/client-awareness.js';
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

/** Probes come every few seconds from every load balancer: logged at debug only. */
const PROBES = new Set(['/health', '/ready']);

/** What the plugin learns of a request as it executes. */
type Seen = {
  path: string;
  client: ClientIdentity | undefined;
  executed: boolean;
  operation?: string;
  fields?: Record<string, string>;
};

/**
 * Request id, Server-Timing, request metrics and the request log line, all from
 * one view of the request: where it started, its context, and its result.
 *
 * Every request gets one log line, refused ones included (a 400, 401, 403,
 * 411, 413, a persisted query miss): request id, method, path, status, the
 * error code of a refusal, the operation and the outcome of each list field the
 * request's record tracked (`ok`, an error code, `stale`, `fallback:<name>`),
 * duration, and the client's name and version when it sends them. Never a
 * token or user id.
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
      seen.set(request, {
        path: url.pathname,
        executed: false,
        client: clientOf(request.headers),
      });
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
    async onResponse({ request, response }) {
      // Answered before this plugin's onRequest ran (a preflight, a size refusal,
      // /metrics): the record starts now. Those answers took next to no time anyway.
      const entry = seen.get(request) ?? {
        path: new URL(request.url).pathname,
        executed: false,
        client: clientOf(request.headers),
      };
      if (entry.path === metricsEndpoint && request.method === 'GET') return;
      const record = records.of(request);
      const durationMs = performance.now() - record.startedAt;
      const requestId = record.requestId;
      response.headers.set('x-request-id', requestId);
      const incremental = /multipart|event-stream/.test(response.headers.get('content-type') ?? '');
      if (serverTiming && entry.executed && !incremental) {
        response.headers.set('server-timing', serverTimingHeader(record, durationMs));
      }
      if (entry.operation !== undefined) {
        metrics.observeRequest(entry.operation, durationMs / 1000);
      }
      metrics.countRequest({ client: entry.client, status: response.status });
      const probe = PROBES.has(entry.path);
      // Called as methods: pino's need their `this`; pino leaves out undefined fields.
      logger[probe ? 'debug' : 'info']({
        msg: 'graphql request',
        requestId,
        method: request.method,
        path: entry.path,
        operation: entry.operation,
        status: response.status,
        // A refusal's code, read back from its body (probes have none).
        code: entry.executed || probe ? undefined : await refusalCode(response),
        durationMs: Math.round(durationMs * 10) / 10,
        fields: entry.fields,
        client: entry.client?.name,
        clientVersion: entry.client?.version,
      });
    },
  };
}

// Private helpers.

/** The code of a request refused before execution, from its GraphQL error body. */
async function refusalCode(response: Response): Promise<string | undefined> {
  if (!/json/.test(response.headers.get('content-type') ?? '')) return undefined;
  try {
    const body = (await response.clone().json()) as {
      errors?: Array<{ extensions?: { code?: unknown } }>;
    };
    const code = body.errors?.[0]?.extensions?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

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
