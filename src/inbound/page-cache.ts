import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from '../app.js';
import type { Logger } from '../logger.js';
import type { PageCacheMetrics } from '../observability/metrics.js';
import { requestIdFrom } from '../observability/request-id.js';
import type { CacheResult, RequestRecords } from '../observability/request-record.js';
import { etagOf, matchesIfNoneMatch, sharedCacheHeaders } from './http-cache-headers.js';
import { clientGone, readRequestBody, requestHeaders, writeResponse } from './node-exchange.js';
import {
  hasRepeatedKeyHeader,
  headerText,
  isAnonymous,
  keyHeaders,
  pageKey,
  pageVary,
} from './page-key.js';
import { answerFacts, reusableForMs } from './page-lifetime.js';
import {
  createMemoryPageStore,
  type PageStore,
  type Replay,
  type StoredPage,
} from './page-store.js';
import { routeName } from './routes.js';
import type { FrontStep, StepAnswer } from './server.js';

/** Options of `createPageCache`. */
export type PageCacheOptions = {
  gateway: Gateway;
  /** The gateway's request records: what each answer used and how fresh it was. */
  records: RequestRecords;
  /** Longest reuse of an answer (PAGE_CACHE_TTL_MS); 0: the step does nothing. */
  ttlMs: number;
  /** Past its lifetime, an answer is served while one refresh runs, this long. */
  staleWhileRevalidateMs: number;
  /** Bound of the default in-memory store (PAGE_CACHE_MAX_BYTES); 0: the step does nothing. */
  maxBytes: number;
  /** MAX_BODY_BYTES: a larger (or undeclared) body goes to yoga unread, which refuses it. */
  maxBodyBytes: number;
  metrics: PageCacheMetrics;
  /** Add `cache;desc=hit|miss|stale` to `Server-Timing` (SERVER_TIMING). Default true. */
  serverTiming?: boolean;
  logger: Logger;
  /** Where pages live. Default: in this process's memory, bounded by `maxBytes`. */
  store?: PageStore;
  /**
   * Client headers any upstream receives (every `<SERVICE>_FORWARD_HEADERS`):
   * part of the key and of `Vary`, so a German page never serves an English
   * visitor. Default: none.
   */
  forwardHeaders?: readonly string[];
  /**
   * Asked on a miss, before it runs: admission control (admission.ts), which
   * sits behind the cache so that hits are never shed. Default: every miss runs.
   */
  admit?: (req: IncomingMessage, res: ServerResponse) => false | StepAnswer;
  now?: () => number;
};

/** Response headers that describe one response, not the page: never stored. */
const PER_RESPONSE = new Set([
  'age',
  'cache-control',
  'connection',
  'content-length',
  'date',
  'etag',
  'keep-alive',
  'server-timing',
  'transfer-encoding',
  'vary',
  'x-request-id',
]);

/**
 * The anonymous page cache: a front step (server.ts) that answers identical
 * anonymous GraphQL queries from memory, before yoga parses, authenticates or
 * executes anything.
 *
 * A request qualifies when it is a GET or POST to the endpoint without
 * `Authorization` or `Cookie`, and its body (POST) declares a length within
 * MAX_BODY_BYTES; anything else goes to yoga untouched. A qualifying request is
 * keyed (page-key.ts) and, on a miss, run through yoga with the body read here;
 * its answer is stored only when complete and fresh (page-lifetime.ts), for no
 * longer than the freshest data in it allows. Stored answers go out with
 * `Cache-Control: public`, `ETag` (and 304), `Age` and `Vary`; an expired one is
 * served for `staleWhileRevalidateMs` while a single refresh runs. Concurrent
 * misses are not merged: each keeps its own deadline.
 */
export function createPageCache({
  gateway,
  records,
  ttlMs,
  staleWhileRevalidateMs,
  maxBytes,
  maxBodyBytes,
  metrics,
  serverTiming = true,
  logger,
  now = Date.now,
  store = createMemoryPageStore({ maxBytes, now }),
  forwardHeaders = [],
  admit = () => false,
}: PageCacheOptions): FrontStep {
  if (ttlMs === 0 || maxBytes === 0) return () => false;
  const vary = pageVary(forwardHeaders);
  metrics.trackStoredBytes(() => store.bytes);
  /** Keys being refreshed in the background: one refresh per key at a time. */
  const refreshing = new Set<string>();

  /** Runs one request through yoga; stores its answer when it may be reused. */
  async function run(
    key: string,
    request: Request,
    replay: Replay,
  ): Promise<{ response: Response; page: StoredPage | undefined }> {
    const startedAt = now();
    const response = await gateway.fetch(request);
    const lifetimeMs = reusableForMs(answerFacts(response, records.of(request)), ttlMs);
    if (lifetimeMs <= 0) return { response, page: undefined };
    const body = Buffer.from(await response.arrayBuffer());
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (!PER_RESPONSE.has(name)) headers[name] = value;
    });
    const page: StoredPage = {
      status: response.status,
      headers,
      body,
      etag: etagOf(body),
      storedAt: startedAt,
      freshUntil: startedAt + lifetimeMs,
      staleUntil: startedAt + lifetimeMs + staleWhileRevalidateMs,
      replay,
    };
    try {
      await store.set(key, page);
    } catch (error) {
      // A store that cannot keep it (a shared level down) costs the reuse, not the answer.
      logger.warn(`Page cache store failed: ${String(error)}`);
    }
    return { response, page };
  }

  /** A refresh in the background for an expired page; one per key at a time. */
  function revalidate(key: string, replay: Replay): void {
    if (refreshing.has(key)) return;
    refreshing.add(key);
    const request = new gateway.fetchAPI.Request(replay.url, {
      method: replay.method,
      headers: {
        ...replay.headers,
        ...(replay.body && { 'content-length': String(replay.body.byteLength) }),
      },
      body: asBody(replay.body),
    });
    run(key, request, replay)
      .then(({ response, page }) => {
        // Nobody reads the answer of a failed refresh: free it.
        if (page === undefined) void response.body?.cancel().catch(() => {});
      })
      .catch((error: unknown) => logger.warn(`Page refresh failed: ${String(error)}`))
      .finally(() => refreshing.delete(key));
  }

  /** Sends a stored page (304 when the client holds it already); gives the request id it sent. */
  function send(
    req: IncomingMessage,
    res: ServerResponse,
    page: StoredPage,
    result: CacheResult,
    fromResponse?: Response,
  ): string {
    // A flat header list, no object spreads: this is the whole cost of a hit.
    const cache = sharedCacheHeaders({
      storedAt: page.storedAt,
      freshUntil: page.freshUntil,
      staleWhileRevalidateMs,
      now: now(),
    });
    const requestId =
      fromResponse?.headers.get('x-request-id') ??
      requestIdFrom(headerText(req.headers['x-request-id']));
    const headers = [
      'cache-control',
      cache['cache-control'],
      'age',
      cache.age,
      'etag',
      page.etag,
      'vary',
      vary,
      'x-request-id',
      requestId,
    ];
    if (serverTiming) {
      const timing = withCacheTiming(fromResponse?.headers.get('server-timing'), result);
      headers.push('server-timing', timing);
    }
    if (matchesIfNoneMatch(req.headers['if-none-match'], page.etag)) {
      res.writeHead(304, headers);
      res.end();
      return requestId;
    }
    for (const name in page.headers) headers.push(name, page.headers[name] as string);
    headers.push('content-length', String(page.body.byteLength));
    res.writeHead(page.status, headers);
    res.end(page.body);
    return requestId;
  }

  return async (req, res) => {
    const { method = 'GET', url: path = '/' } = req;
    if (method !== 'GET' && method !== 'POST') return false;
    if (!isAnonymous(req.headers)) return false;
    if (hasRepeatedKeyHeader(req.rawHeaders)) return false;
    // A browser asking for a page (GraphiQL): nothing the cache would keep.
    if (req.headers.accept?.includes('text/html')) return false;
    // Pages only, by the route the server gave the request (routes.ts).
    if (routeName(req) !== 'graphql') return false;
    // The body limit applies before the cache: a body over it, or of unknown
    // size, is left to yoga, which refuses it (413, 411), hit or not.
    const declared = Number(req.headers['content-length'] ?? (method === 'GET' ? 0 : Number.NaN));
    if (!(declared <= maxBodyBytes)) return false;

    const body = method === 'POST' ? await readRequestBody(req, maxBodyBytes) : null;
    const key = pageKey({ method, url: path, headers: req.headers, body }, forwardHeaders);
    // Only a stale page or a miss needs it: not built for a hit. The server
    // checked the Host before any step ran (server.ts), so it makes a URL.
    const replay = (): Replay => ({
      method,
      url: requestUrl(req, path),
      headers: keyHeaders(req.headers, forwardHeaders),
      body,
    });

    const found = await store.get(key);
    const at = now();
    if (found && at < found.staleUntil) {
      const result = at < found.freshUntil ? 'hit' : 'stale';
      if (result === 'stale') revalidate(key, replay());
      metrics.lookup(result);
      return { cache: result, requestId: send(req, res, found, result) };
    }
    // Concurrent misses of one key each run: waiting for another request's run
    // would break this one's deadline whenever that answer cannot be stored.
    metrics.lookup('miss');
    const refused = admit(req, res);
    if (refused !== false) return refused;
    const replayed = replay();
    const request = new gateway.fetchAPI.Request(replayed.url, {
      method,
      headers: requestHeaders(req),
      body: asBody(body),
      signal: clientGone(res),
    });
    const { response, page } = await run(key, request, replayed);
    // Run through yoga: its request log has this one already.
    if (page) {
      send(req, res, page, 'miss', response);
      return { logged: true };
    }
    if (serverTiming) {
      response.headers.set(
        'server-timing',
        withCacheTiming(response.headers.get('server-timing'), 'miss'),
      );
    }
    await writeResponse(res, response);
    return { logged: true };
  };
}

// Private helpers.

/** The request's URL, as yoga builds it (a Host that makes none was refused by the server). */
function requestUrl(req: IncomingMessage, path: string): string {
  return new URL(path, `http://${req.headers.host ?? 'localhost'}`).href;
}

/** A Buffer as a fetch body (Node's Buffer types its memory as possibly shared; ours never is). */
function asBody(buffer: Buffer | null): BodyInit | null {
  return buffer as Uint8Array<ArrayBuffer> | null;
}

function withCacheTiming(existing: string | null | undefined, result: CacheResult): string {
  const entry = `cache;desc=${result}`;
  return existing ? `${entry}, ${existing}` : entry;
}
