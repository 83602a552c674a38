import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../src/app.js';
import { signToken } from '../src/auth.js';
import { loadConfig, type Config } from '../src/config.js';
import { createPageCache } from '../src/inbound/page-cache.js';
import { createMemoryPageStore, type PageStore } from '../src/inbound/page-store.js';
import { createSharedPageStore } from '../src/inbound/shared-page-store.js';
import { createGatewayServer } from '../src/inbound/server.js';
import { silentLogger } from '../src/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { createRequestRecords } from '../src/observability/request-record.js';
import { createTracing } from '../src/observability/tracing.js';
import { documentId } from '../src/trusted-documents.js';
import { perService, type PerService, type ServiceName } from '../src/upstreams/services.js';
import {
  HOMEPAGE_QUERY,
  TEST_SECRET,
  startUpstreams,
  testGatewayOptions,
  type TestGatewayOverrides,
} from './helpers/gateway.js';
import { POPULAR, promoHandler, PROMOTIONS, recommendationsHandler } from './helpers/fixtures.js';
import { connected, useRedis } from './helpers/redis.js';
import { sendJson, type Handler, type Upstream } from './helpers/upstream.js';

// The anonymous page cache, through a real listening server (Node's HTTP server
// with the front step, as build-server.ts builds it) and real loopback upstreams whose
// own logs count the calls a page costs.

type CachedServer = {
  url: string;
  upstreams: PerService<Upstream>;
  /** Upstream requests so far, all services together. */
  calls(): number;
  metricsText(): Promise<string>;
  close(): Promise<void>;
};

const open: CachedServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

async function startCachedServer(
  options: TestGatewayOverrides & {
    handlers?: Partial<Record<ServiceName, Handler>>;
    pageCache?: Partial<Config['pageCache']>;
    now?: () => number;
    /** Where pages are kept; default: this process's memory. */
    store?: PageStore;
  } = {},
): Promise<CachedServer> {
  const upstreams = await startUpstreams(options.handlers);
  const gatewayOptions = testGatewayOptions(
    perService<PerService<string>>((service) => upstreams[service].url),
    options,
  );
  const metrics = createMetrics();
  const records = createRequestRecords({
    requestDeadlineMs: gatewayOptions.requestDeadlineMs,
    metrics: metrics.sink,
    tracer: createTracing({}).tracer,
  });
  const gateway = createGateway({ ...gatewayOptions, metrics, records });
  const defaults = loadConfig({});
  const server = createGatewayServer(gateway, {
    limits: defaults.server,
    logger: silentLogger,
    steps: [
      createPageCache({
        gateway,
        records,
        ...defaults.pageCache,
        ...options.pageCache,
        maxBodyBytes: gatewayOptions.security.maxBodyBytes,
        metrics: metrics.pageCache,
        logger: silentLogger,
        ...(options.now && { now: options.now }),
        ...(options.store && { store: options.store }),
      }),
    ],
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cached: CachedServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    upstreams,
    calls: () =>
      Object.values(upstreams).reduce((sum, upstream) => sum + upstream.requests.length, 0),
    metricsText: () => metrics.registry.metrics(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.dispose();
      await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
    },
  };
  open.push(cached);
  return cached;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/** POSTs the home page query (or `body`) as an anonymous browser would. */
function postPage(
  server: CachedServer,
  { headers = {}, body }: { headers?: Record<string, string>; body?: string } = {},
) {
  return fetch(server.url, {
    method: 'POST',
    headers: { ...JSON_HEADERS, ...headers },
    body: body ?? JSON.stringify({ query: HOMEPAGE_QUERY }),
  });
}

const cacheTiming = (response: Response) =>
  /cache;desc=(\w+)/.exec(response.headers.get('server-timing') ?? '')?.[1];

/** `max-age` of a response's Cache-Control, in seconds. */
const maxAge = (response: Response) =>
  Number(/max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '')?.[1] ?? Number.NaN);

describe('anonymous page cache', () => {
  it('answers the second anonymous page from the cache, with no upstream call', async () => {
    const server = await startCachedServer();
    const first = await postPage(server);
    const firstBody = await first.text();
    expect(cacheTiming(first)).toBe('miss');
    expect(JSON.parse(firstBody).data.homepage.promo).toHaveLength(PROMOTIONS.length);
    const callsAfterFirst = server.calls();
    expect(callsAfterFirst).toBeGreaterThan(0);

    const second = await postPage(server);
    expect(second.status).toBe(200);
    expect(await second.text()).toBe(firstBody);
    expect(cacheTiming(second)).toBe('hit');
    expect(server.calls()).toBe(callsAfterFirst);
    expect(second.headers.get('cache-control')).toMatch(
      /^public, max-age=\d+, stale-while-revalidate=\d+$/,
    );
    expect(maxAge(second)).toBeLessThanOrEqual(10);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(second.headers.get('age')).toMatch(/^\d+$/);
    expect(second.headers.get('content-type')).toMatch(/json/);
    expect(second.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
  });

  it('lists every header of the key, and the credentials, in Vary', async () => {
    const server = await startCachedServer();
    const vary = (await postPage(server)).headers.get('vary') ?? '';
    const named = vary.split(',').map((name) => name.trim().toLowerCase());
    for (const name of [
      'accept',
      'accept-encoding',
      'content-type',
      'origin',
      'x-graphql-yoga-csrf',
      'apollo-require-preflight',
    ]) {
      expect(named).toContain(name);
    }
    expect(named).toContain('authorization');
    expect(named).toContain('cookie');
  });

  it('never caches a signed-in page, which stays private even after an anonymous one is stored', async () => {
    const server = await startCachedServer();
    await postPage(server);
    const token = await signToken(TEST_SECRET, 'u-7');
    for (let i = 0; i < 2; i++) {
      const before = server.calls();
      const response = await postPage(server, { headers: { authorization: `Bearer ${token}` } });
      const body = await response.json();
      expect(body.data.homepage.recommendations[0].reason).toBe('Picked for u-7');
      expect(response.headers.get('cache-control')).toBe('private, no-store');
      expect(cacheTiming(response)).toBeUndefined();
      expect(server.calls()).toBeGreaterThan(before);
    }
  });

  it('never caches a request carrying a cookie', async () => {
    const server = await startCachedServer();
    for (let i = 0; i < 2; i++) {
      const before = server.calls();
      const response = await postPage(server, { headers: { cookie: 'session=abc' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('private, no-store');
      expect(server.calls()).toBeGreaterThan(before);
    }
  });

  it('does not store a page with an upstream error', async () => {
    const server = await startCachedServer({
      handlers: { recommendations: (_req, res) => sendJson(res, { error: 'down' }, 500) },
    });
    for (let i = 0; i < 2; i++) {
      const before = server.upstreams.recommendations.requests.length;
      const response = await postPage(server);
      expect((await response.json()).errors?.length).toBeGreaterThan(0);
      expect(cacheTiming(response)).toBe('miss');
      expect(response.headers.get('cache-control')).toBe('private, no-store');
      expect(server.upstreams.recommendations.requests.length).toBeGreaterThan(before);
    }
  });

  it('does not store a page that shows house banners for a failed promo', async () => {
    const server = await startCachedServer({
      handlers: { promo: (_req, res) => sendJson(res, { error: 'down' }, 500) },
      fallbacks: { houseBanners: [PROMOTIONS[0] as never] },
    });
    for (let i = 0; i < 2; i++) {
      const response = await postPage(server);
      expect((await response.json()).extensions?.fallbacks).toBeDefined();
      expect(response.headers.get('cache-control')).toBe('private, no-store');
      expect(cacheTiming(response)).toBe('miss');
    }
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const server = await startCachedServer();
    const etag = (await postPage(server)).headers.get('etag') ?? '';
    expect(etag).toMatch(/^".+"$/);
    const revalidated = await postPage(server, { headers: { 'if-none-match': `W/${etag}` } });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
    expect(revalidated.headers.get('etag')).toBe(etag);
    expect(revalidated.headers.get('cache-control')).toMatch(/^public/);
    const other = await postPage(server, { headers: { 'if-none-match': '"something-else"' } });
    expect(other.status).toBe(200);
  });

  it('caches GET and POST, each under its own key', async () => {
    const server = await startCachedServer();
    const get = () =>
      fetch(`${server.url}?query=${encodeURIComponent(HOMEPAGE_QUERY)}`, {
        headers: { accept: 'application/json' },
      });
    expect(cacheTiming(await get())).toBe('miss');
    const calls = server.calls();
    const hit = await get();
    expect(cacheTiming(hit)).toBe('hit');
    expect((await hit.json()).data.homepage.recommendations).toHaveLength(POPULAR.length);
    expect(server.calls()).toBe(calls);
    expect(cacheTiming(await postPage(server))).toBe('miss');
    expect(cacheTiming(await postPage(server))).toBe('hit');
  });

  it('keeps different variables apart', async () => {
    const server = await startCachedServer();
    const page = (limit: number) =>
      postPage(server, { body: JSON.stringify({ query: HOMEPAGE_QUERY, variables: { limit } }) });
    expect(cacheTiming(await page(1))).toBe('miss');
    const two = await page(2);
    expect(cacheTiming(two)).toBe('miss');
    expect((await two.json()).data.homepage.recommendations).toHaveLength(2);
    const one = await page(1);
    expect(cacheTiming(one)).toBe('hit');
    expect((await one.json()).data.homepage.recommendations).toHaveLength(1);
  });

  it('does not cache an @defer answer', async () => {
    const server = await startCachedServer();
    const query = '{ homepage { promo { id } ... @defer { recommendations { score } } } }';
    for (let i = 0; i < 2; i++) {
      const before = server.calls();
      const response = await postPage(server, {
        headers: { accept: 'multipart/mixed' },
        body: JSON.stringify({ query }),
      });
      expect(response.headers.get('content-type')).toMatch(/multipart\/mixed/);
      expect(await response.text()).toContain('"score"');
      expect(response.headers.get('cache-control')).toBe('private, no-store');
      expect(server.calls()).toBeGreaterThan(before);
    }
  });

  it('refuses a body over the limit with 413 even when a similar page is stored', async () => {
    const server = await startCachedServer({ security: { maxBodyBytes: 2048 } });
    const body = JSON.stringify({ query: HOMEPAGE_QUERY });
    await postPage(server, { body });
    expect(cacheTiming(await postPage(server, { body }))).toBe('hit');
    const padded = await postPage(server, { body: body + ' '.repeat(2048) });
    expect(padded.status).toBe(413);
  });

  it('gives a hit only to a request the CSRF check would accept', async () => {
    const server = await startCachedServer({ security: { csrfPrevention: true } });
    const get = (headers: Record<string, string>) =>
      fetch(`${server.url}?query=${encodeURIComponent(HOMEPAGE_QUERY)}`, {
        headers: { accept: 'application/json', ...headers },
      });
    await get({ 'x-graphql-yoga-csrf': '1' });
    expect(cacheTiming(await get({ 'x-graphql-yoga-csrf': '1' }))).toBe('hit');
    const simple = await get({});
    expect(simple.status).toBe(403);
    expect(simple.headers.get('cache-control')).toBe('private, no-store');
  });

  it("gives each preflight header its own entry: one client's header never lets another's request through", async () => {
    const server = await startCachedServer({ security: { csrfPrevention: true } });
    const get = (headers: Record<string, string>) =>
      fetch(`${server.url}?query=${encodeURIComponent(HOMEPAGE_QUERY)}`, {
        headers: { accept: 'application/json', ...headers },
      });
    await get({ 'apollo-require-preflight': 'true' });
    expect(cacheTiming(await get({ 'apollo-require-preflight': 'true' }))).toBe('hit');
    expect((await get({})).status).toBe(403);
  });

  it('serves a compressed page only to clients that asked for that encoding', async () => {
    const server = await startCachedServer({ compressionMinBytes: 256 });
    const raw = (acceptEncoding?: string) =>
      new Promise<{ encoding: string | undefined; timing: string; body: Buffer }>(
        (resolve, reject) => {
          const url = new URL(server.url);
          const body = JSON.stringify({ query: HOMEPAGE_QUERY });
          const req = httpRequest(
            url,
            {
              method: 'POST',
              headers: {
                ...JSON_HEADERS,
                'content-length': Buffer.byteLength(body),
                ...(acceptEncoding && { 'accept-encoding': acceptEncoding }),
              },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (chunk: Buffer) => chunks.push(chunk));
              res.on('end', () =>
                resolve({
                  encoding: res.headers['content-encoding'],
                  timing: /cache;desc=(\w+)/.exec(String(res.headers['server-timing']))?.[1] ?? '',
                  body: Buffer.concat(chunks),
                }),
              );
            },
          );
          req.on('error', reject);
          req.end(body);
        },
      );

    expect((await raw('gzip')).encoding).toBe('gzip');
    const gzipHit = await raw('gzip');
    expect(gzipHit).toMatchObject({ encoding: 'gzip', timing: 'hit' });
    expect(JSON.parse(gunzipSync(gzipHit.body).toString()).data.homepage.promo).toHaveLength(
      PROMOTIONS.length,
    );
    const plain = await raw();
    expect(plain.encoding).toBeUndefined();
    expect(JSON.parse(plain.body.toString()).data.homepage.promo).toHaveLength(PROMOTIONS.length);
  });

  it('gives a hit only to a request trusted documents would accept', async () => {
    const id = documentId(HOMEPAGE_QUERY);
    const server = await startCachedServer({
      security: { trustedDocuments: { mode: 'enforce', manifest: { [id]: HOMEPAGE_QUERY } } },
    });
    const byId = JSON.stringify({ documentId: id });
    await postPage(server, { body: byId });
    expect(cacheTiming(await postPage(server, { body: byId }))).toBe('hit');
    for (let i = 0; i < 2; i++) {
      const asText = await postPage(server);
      expect(asText.status).toBe(400);
      expect(asText.headers.get('cache-control')).toBe('private, no-store');
    }
  });

  it('is off with PAGE_CACHE_TTL_MS=0: every page calls the upstreams and stays private', async () => {
    const server = await startCachedServer({ pageCache: { ttlMs: 0 } });
    for (let i = 0; i < 2; i++) {
      const before = server.calls();
      const response = await postPage(server);
      expect(response.headers.get('cache-control')).toBe('private, no-store');
      expect(cacheTiming(response)).toBeUndefined();
      expect(server.calls()).toBeGreaterThan(before);
    }
  });

  it("lives no longer than promo's freshness", async () => {
    const server = await startCachedServer({
      handlers: {
        promo: (_req, res) => {
          res.setHeader('cache-control', 'max-age=1');
          promoHandler()(_req, res, new URL('http://upstream/'));
        },
      },
    });
    const first = await postPage(server);
    expect(first.headers.get('cache-control')).toMatch(/^public/);
    expect(maxAge(first)).toBeLessThanOrEqual(1);
  });

  it('is not stored when promo says no-store', async () => {
    const server = await startCachedServer({
      handlers: {
        promo: (_req, res) => {
          res.setHeader('cache-control', 'no-store');
          promoHandler()(_req, res, new URL('http://upstream/'));
        },
      },
    });
    await postPage(server);
    const second = await postPage(server);
    expect(cacheTiming(second)).toBe('miss');
    expect(second.headers.get('cache-control')).toBe('private, no-store');
  });

  it("lives no longer than popular picks' max-age", async () => {
    const popular = recommendationsHandler();
    const server = await startCachedServer({
      handlers: {
        recommendations: (req, res, url) => {
          res.setHeader('cache-control', 'max-age=2');
          return popular(req, res, url);
        },
      },
    });
    expect(maxAge(await postPage(server))).toBeLessThanOrEqual(2);
  });

  it('serves an expired page at once and refreshes it once in the background', async () => {
    let clock = 1_000_000;
    const server = await startCachedServer({
      pageCache: { ttlMs: 5_000, staleWhileRevalidateMs: 5_000 },
      now: () => clock,
    });
    await postPage(server);
    const picks = () => server.upstreams.recommendations.requests.length;
    const before = picks();
    clock += 6_000;
    const stale = await postPage(server);
    expect(cacheTiming(stale)).toBe('stale');
    expect(stale.status).toBe(200);
    // A second request while the refresh runs: served stale too, no second refresh.
    expect(cacheTiming(await postPage(server))).toMatch(/stale|hit/);
    await vi.waitFor(async () => expect(cacheTiming(await postPage(server))).toBe('hit'));
    expect(picks()).toBe(before + 1);
  });

  it('keeps serving the expired page when its refresh fails, until the window ends', async () => {
    let clock = 1_000_000;
    let healthy = true;
    const popular = recommendationsHandler();
    const server = await startCachedServer({
      pageCache: { ttlMs: 5_000, staleWhileRevalidateMs: 5_000 },
      now: () => clock,
      handlers: {
        recommendations: (req, res, url) =>
          healthy ? popular(req, res, url) : sendJson(res, { error: 'down' }, 500),
      },
    });
    const first = await (await postPage(server)).text();
    healthy = false;
    clock += 6_000;
    const picks = () => server.upstreams.recommendations.requests.length;
    const before = picks();
    const stale = await postPage(server);
    expect(cacheTiming(stale)).toBe('stale');
    expect(await stale.text()).toBe(first);
    await vi.waitFor(() => expect(picks()).toBeGreaterThan(before));
    const again = await postPage(server);
    expect(cacheTiming(again)).toBe('stale');
    expect(await again.text()).toBe(first);
    clock += 5_000;
    const expired = await postPage(server);
    expect(cacheTiming(expired)).toBe('miss');
    expect(expired.headers.get('cache-control')).toBe('private, no-store');
  });

  it('counts hits, misses and stored bytes in the metrics', async () => {
    const server = await startCachedServer();
    await postPage(server);
    await postPage(server);
    await postPage(server);
    const text = await server.metricsText();
    expect(text).toMatch(/bff_cache_events_total\{cache="page",result="miss"\} 1\b/);
    expect(text).toMatch(/bff_cache_events_total\{cache="page",result="hit"\} 2\b/);
    const bytes = Number(/^bff_page_cache_bytes (\d+)/m.exec(text)?.[1]);
    expect(bytes).toBeGreaterThan(500);
  });
});

describe('the page cache shared by replicas through Redis', () => {
  const redisServers = useRedis();

  /** A replica: its own upstreams, memory and Redis connection, one shared redis-server. */
  async function replica(redis: Awaited<ReturnType<typeof redisServers.start>>) {
    const metrics = createMetrics();
    const connection = redisServers.connect(redis, { metrics: metrics.shared });
    await connected(connection);
    const store = createSharedPageStore({
      memory: createMemoryPageStore({ maxBytes: 1 << 20 }),
      connection,
      metrics: metrics.shared,
    });
    return startCachedServer({ store });
  }

  /** Waits for the page written in the background to reach Redis. */
  async function pageInRedis(redis: Awaited<ReturnType<typeof redisServers.start>>) {
    for (let i = 0; i < 200; i++) {
      const keys = await redis.admin.keys('homepage-bff:v1:page:*');
      if (keys.length > 0) return keys;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('no page reached Redis');
  }

  it('serves on replica B, with no upstream call, the page replica A stored', async () => {
    const redis = await redisServers.start();
    const [a, b] = [await replica(redis), await replica(redis)];

    const first = await postPage(a);
    expect(cacheTiming(first)).toBe('miss');
    await pageInRedis(redis);
    const second = await postPage(b);

    expect(cacheTiming(second)).toBe('hit');
    expect(await second.json()).toEqual(await first.json());
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(b.calls()).toBe(0);
  });

  it('treats a page in Redis that is not a page as a miss, and answers in full', async () => {
    const redis = await redisServers.start();
    const [a, b] = [await replica(redis), await replica(redis)];
    await postPage(a);
    for (const key of await pageInRedis(redis)) await redis.admin.set(key, '{"status":"garbage"}');

    const response = await postPage(b);

    expect(response.status).toBe(200);
    expect(cacheTiming(response)).toBe('miss');
    expect((await response.json()).data.homepage.promo).toHaveLength(PROMOTIONS.length);
    expect(b.calls()).toBeGreaterThan(0);
  });

  it('answers in full, and stores in its own memory, while Redis is paused (SIGSTOP)', async () => {
    const redis = await redisServers.start();
    const metrics = createMetrics();
    // The shipped timeout: a paused Redis costs at most this, once, then the breaker.
    const connection = redisServers.connect(redis, { metrics: metrics.shared, timeoutMs: 50 });
    await connected(connection);
    const server = await startCachedServer({
      store: createSharedPageStore({
        memory: createMemoryPageStore({ maxBytes: 1 << 20 }),
        connection,
        metrics: metrics.shared,
      }),
    });
    redis.pause();

    const first = await postPage(server);
    expect(first.status).toBe(200);
    expect((await first.json()).errors).toBeUndefined();
    expect(cacheTiming(await postPage(server))).toBe('hit');
    redis.resume();
  });

  it('answers in full when Redis is gone', async () => {
    const redis = await redisServers.start();
    const b = await replica(redis);
    await redis.kill();

    const response = await postPage(b);

    expect(response.status).toBe(200);
    expect((await response.json()).errors).toBeUndefined();
    expect(cacheTiming(await postPage(b))).toBe('hit'); // from its own memory
  });
});
