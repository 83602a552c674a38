import { Pool, type Dispatcher } from 'undici';
import type { UpstreamTls } from './upstream-tls.js';

/**
 * Most sockets open to one origin at once, by default: Envoy's default
 * `max_connections` per cluster. A bound on file descriptors and on what one
 * service is asked to hold, far past what this process keeps busy with the
 * default timeouts (each page holds one call per service at a time, and each
 * call ends within its budget, at most a second). 128 was a fixed number that
 * throttled slow upstreams: at 200 ms a service got at most 640 calls/s, and in
 * a spike of 256 pages in flight the rest waited here for a socket, ran late,
 * timed out and opened breakers (bench/levers.md, sixth pass).
 */
export const DEFAULT_CONNECTIONS = 1024;

/** Options of `createPooledFetch`. */
export type PooledFetchOptions = {
  /**
   * Most sockets open to the origin at once. Default `DEFAULT_CONNECTIONS`
   * (`<SERVICE>_MAX_CONNECTIONS` sets it per service). Calls beyond it wait in
   * undici's queue, which has no bound of its own (undici has no `maxQueue`):
   * admission's MAX_IN_FLIGHT bounds it (at most that many pages, each with one
   * call per service at a time), and a waiting call fails as soon as its
   * signal aborts (its budget), then is dropped unsent when a socket frees.
   */
  connections?: number;
  /** How long an idle socket is kept (capped by the server's own `Keep-Alive` hint). Default 4000 ms. */
  keepAliveTimeoutMs?: number;
  /** For an `https://` origin: a private CA and a client certificate. Default: Node's public CAs, no client certificate. */
  tls?: UpstreamTls | undefined;
};

/**
 * What a caller may pass beside the Request (ky hands its unknown options to
 * its `fetch` as the second argument).
 */
export type PooledFetchInit = {
  /**
   * The call's cancellation, used instead of the Request's own signal. ky 1
   * builds every Request with a signal of its own and, given the caller's, ties
   * the two together with `AbortSignal.any`, whose weak references survive the
   * young generation and die in a major collection; passed here the call's
   * signal needs none of that (upstream-client.ts).
   */
  callSignal?: AbortSignal;
};

/** A `fetch` for one origin, and a way to close its sockets. */
export type PooledFetch = {
  fetch: typeof globalThis.fetch;
  close(): Promise<void>;
};

// Statuses whose response cannot carry a body (the Response constructor refuses one).
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` over a keep-alive undici `Pool` for one origin, for ky's `fetch`
 * option. Node 20's global fetch costs several times a pooled `request` per call
 * (BENCHMARKS.md); this keeps ky's API and error types and swaps only the
 * transport. It answers only what our upstream client asks of fetch: the
 * request's method, URL, headers and signal (or `callSignal`) go out; the
 * status, headers and a streamed body come back. Redirects are never followed
 * (as `redirect: 'manual'`). A request for another origin is refused rather
 * than silently sent elsewhere.
 */
export function createPooledFetch(
  origin: string,
  { connections = DEFAULT_CONNECTIONS, keepAliveTimeoutMs = 4000, tls }: PooledFetchOptions = {},
): PooledFetch {
  const pool = new Pool(origin, {
    connections,
    keepAliveTimeout: keepAliveTimeoutMs,
    // Budgets are the caller's (its signal): undici's own 300 s limits stay out of the way.
    headersTimeout: 0,
    bodyTimeout: 0,
    // undici hands these to tls.connect; the hostname is still verified against the certificate.
    ...(tls && { connect: { ...tls } }),
  });
  const expected = new URL(origin).origin;

  async function pooledFetch(
    input: RequestInfo | URL,
    init?: RequestInit & PooledFetchInit,
  ): Promise<Response> {
    // ky hands over a finished Request, with its own extra options as `init` (of
    // which only `callSignal` concerns the transport): no second Request is built.
    const request = input instanceof Request ? input : new Request(input, init);
    const signal = init?.callSignal ?? request.signal;
    const url = new URL(request.url);
    if (url.origin !== expected) {
      throw new TypeError(`pooled fetch for ${expected} cannot send to ${url.origin}`);
    }
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => (headers[name] = value));
    const answer = await settledOnAbort(
      pool.request({
        path: `${url.pathname}${url.search}`,
        method: request.method as 'GET',
        headers,
        body: request.body === null ? null : Buffer.from(await request.arrayBuffer()),
        signal,
      }),
      signal,
    );
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (Array.isArray(value)) for (const each of value) responseHeaders.append(name, each);
      else if (value !== undefined) responseHeaders.set(name, value);
    }
    if (answer.statusCode < 200 || answer.statusCode > 599) {
      void answer.body.dump().catch(() => {});
      throw new TypeError(`${request.method} ${request.url}: unusable status ${answer.statusCode}`);
    }
    if (NULL_BODY_STATUSES.has(answer.statusCode)) {
      void answer.body.dump().catch(() => {});
      return new Response(null, { status: answer.statusCode, headers: responseHeaders });
    }
    // A byte stream pulled from undici's body as it is read, so readers can stop
    // early (size cap, abort) and the socket is freed by cancel.
    const chunks = answer.body[Symbol.asyncIterator]();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = (await chunks.next()) as IteratorResult<Buffer>;
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) {
        answer.body.destroy(reason instanceof Error ? reason : undefined);
      },
    });
    return new Response(body, { status: answer.statusCode, headers: responseHeaders });
  }

  return { fetch: pooledFetch as typeof globalThis.fetch, close: () => pool.close() };
}

// Private helpers.

/**
 * The call, failing as soon as `signal` aborts. undici notices the abort of a
 * call waiting for a socket only once it gets one, so with every socket busy a
 * call past its budget would wait for the slowest call ahead of it. It is still
 * dropped unsent when its turn comes; an answer that arrives anyway is discarded.
 */
function settledOnAbort(
  call: Promise<Dispatcher.ResponseData>,
  signal: AbortSignal,
): Promise<Dispatcher.ResponseData> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    call.then(
      (answer) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) answer.body.destroy();
        else resolve(answer);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
