import { describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../src/logger.js';
import { HOMEPAGE_QUERY, useTestBeds } from './helpers/gateway.js';
import { promotion } from './helpers/fixtures.js';
import { sendJson } from './helpers/upstream.js';

const startBed = useTestBeds();

function recordingLogger(): Logger & { lines: unknown[] } {
  const lines: unknown[] = [];
  return { ...silentLogger, info: (...args) => lines.push(args[0]), lines };
}

const post = (query: string, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ query }),
});

describe('Server-Timing', () => {
  it('has one entry per upstream call with its outcome, the promo cache status, and a total', async () => {
    const bed = await startBed();
    const { headers } = await bed.request(post(HOMEPAGE_QUERY));
    const timing = headers.get('server-timing') ?? '';
    const names = timing.split(', ').map((entry) => entry.split(';')[0]);

    expect(names).toEqual(expect.arrayContaining(['promo', 'recommendations', 'catalog', 'total']));
    expect(names.at(-1)).toBe('total');
    expect(timing).toMatch(/promo;dur=\d+\.\d;desc="miss"/);
    expect(timing).toMatch(/recommendations;dur=\d+\.\d;desc="ok"/);

    const again = (await bed.request(post(HOMEPAGE_QUERY))).headers.get('server-timing');
    expect(again).toMatch(/promo;dur=\d+\.\d;desc="hit"/);
    expect(again).toMatch(/catalog;dur=0\.0;desc="hit"/);
  });

  it('names a failed call by its outcome', async () => {
    const bed = await startBed({
      handlers: { recommendations: (_req, res) => sendJson(res, {}, 500) },
    });
    const { headers } = await bed.request(post(HOMEPAGE_QUERY));
    expect(headers.get('server-timing')).toMatch(/recommendations;dur=[\d.]+;desc="unavailable"/);
  });

  it('can be turned off', async () => {
    const bed = await startBed({ observability: { serverTiming: false } });
    const { headers } = await bed.request(post(HOMEPAGE_QUERY));
    expect(headers.get('server-timing')).toBeNull();
  });
});

describe('request id', () => {
  it("takes the caller's x-request-id, echoes it and forwards it to every upstream", async () => {
    const bed = await startBed();
    const { headers } = await bed.request(post(HOMEPAGE_QUERY, { 'x-request-id': 'req-123' }));

    expect(headers.get('x-request-id')).toBe('req-123');
    for (const upstream of Object.values(bed.upstreams)) {
      expect(upstream.requests.map((r) => r.headers['x-request-id'])).toEqual(
        upstream.requests.map(() => 'req-123'),
      );
    }
  });

  it('makes one up when none (or a malformed one) is given', async () => {
    const bed = await startBed();
    const { headers } = await bed.request(
      post(HOMEPAGE_QUERY, { 'x-request-id': 'bad id\twith spaces' }),
    );
    expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(bed.upstreams.promo.requests[0]?.headers['x-request-id']).toBe(
      headers.get('x-request-id'),
    );
  });
});

describe('request log', () => {
  it('writes one structured line per request with id, operation, duration and field outcomes, and no token', async () => {
    const logger = recordingLogger();
    const bed = await startBed({
      logger,
      handlers: { recommendations: (_req, res) => sendJson(res, {}, 500) },
    });
    const token = await bed.tokenFor('u-secret-user');
    await bed.request(
      post('query Home { homepage { promo { id } recommendations { score } } }', {
        authorization: `Bearer ${token}`,
        'x-request-id': 'req-log-1',
      }),
    );
    const lines = logger.lines.filter(
      (line) => (line as { msg?: string }).msg === 'graphql request',
    );

    expect(lines).toEqual([
      {
        msg: 'graphql request',
        requestId: 'req-log-1',
        method: 'POST',
        path: '/graphql',
        operation: 'Home',
        status: 200,
        durationMs: expect.any(Number),
        fields: { promo: 'ok', recommendations: 'UPSTREAM_UNAVAILABLE' },
      },
    ]);
    const text = JSON.stringify(logger.lines);
    expect(text).not.toContain(token);
    expect(text).not.toContain('u-secret-user');
  });

  it('records stale and fallback fields as such', async () => {
    const logger = recordingLogger();
    const bed = await startBed({
      logger,
      fallbacks: { houseBanners: [promotion('house-1', null)] },
      handlers: { promo: (_req, res) => sendJson(res, {}, 500) },
    });
    await bed.request(post('query P { homepage { promo { id } } }'));
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ operation: 'P', fields: { promo: 'fallback:house_banners' } }),
    );
  });
});

describe('Prometheus metrics', () => {
  it('exposes request, upstream, cache and dropped-item metrics at /metrics', async () => {
    const bed = await startBed({
      handlers: {
        promo: (_req, res) =>
          sendJson(res, { promotions: [promotion('p-1', null), { id: 'broken' }] }),
        recommendations: (_req, res) => sendJson(res, {}, 503),
      },
    });
    await bed.request(post('query Home { homepage { promo { id } recommendations { score } } }'));
    const response = await bed.gateway.fetch('http://gateway.test/metrics');
    const text = await response.text();

    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text).toMatch(/bff_graphql_request_duration_seconds_count\{operation="Home"\} 1/);
    expect(text).toMatch(/bff_upstream_calls_total\{service="promo",outcome="ok"\} 1/);
    expect(text).toMatch(
      /bff_upstream_calls_total\{service="recommendations",outcome="unavailable"\} 1/,
    );
    expect(text).toMatch(
      /bff_upstream_call_duration_seconds_count\{service="promo",outcome="ok"\} 1/,
    );
    expect(text).toMatch(/bff_cache_events_total\{cache="promo",result="miss"\} 1/);
    expect(text).toMatch(/bff_upstream_dropped_items_total\{service="promo"\} 1/);
  });

  it('counts calls refused by an open circuit as circuit_open', async () => {
    const bed = await startBed({
      promoCache: { ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 0 },
      policies: { promo: { retries: 0, breaker: { threshold: 1, halfOpenAfterMs: 60_000 } } },
      handlers: { promo: (_req, res) => sendJson(res, {}, 503) },
    });
    await bed.request(post('{ homepage { promo { id } } }'));
    await bed.request(post('{ homepage { promo { id } } }'));
    const text = await (await bed.gateway.fetch('http://gateway.test/metrics')).text();
    expect(text).toMatch(/bff_upstream_calls_total\{service="promo",outcome="circuit_open"\} 1/);
  });

  it('is not served when METRICS=false', async () => {
    const bed = await startBed({ observability: { metrics: false } });
    const response = await bed.gateway.fetch('http://gateway.test/metrics');
    expect(await response.text()).not.toMatch(/bff_/);
  });
});
