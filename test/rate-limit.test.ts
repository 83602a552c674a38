import { describe, expect, it } from 'vitest';
import { limitAnonymousPages } from '../src/inbound/limit-anonymous-pages.js';
import { createMetrics } from '../src/observability/metrics.js';
import { createViewerLimiter, type ViewerLimiter } from '../src/rate-limit/viewer-limiter.js';
import { HOMEPAGE_QUERY, useTestBeds, type TestBed } from './helpers/gateway.js';
import { useListening } from './helpers/listening.js';

// The per-viewer limit without Redis: each process counts in its own memory.

const startBed = useTestBeds();
const listen = useListening();

/** A gateway over HTTP with the anonymous limit in front and the signed-in one inside. */
async function limitedGateway(perMinute: number, trustedProxies: string[] = []) {
  const metrics = createMetrics();
  const limiter = createViewerLimiter({ perMinute, connection: null, metrics: metrics.shared });
  if (!limiter) throw new Error('expected a limiter');
  const bed = await startBed({ rateLimiter: limiter, metrics });
  const { origin: url } = await listen(bed.gateway, [
    limitAnonymousPages({ limiter, trustedProxies }),
  ]);
  return { bed, url, metrics };
}

const page = (url: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query: HOMEPAGE_QUERY }),
  });

const upstreamCalls = (bed: TestBed) =>
  Object.values(bed.upstreams).reduce((sum, upstream) => sum + upstream.requests.length, 0);

describe('per-viewer rate limit (in memory)', () => {
  it('refuses an anonymous client over the limit with 429, Retry-After and RATE_LIMITED, calling nothing', async () => {
    const { bed, url, metrics } = await limitedGateway(2);
    for (let i = 0; i < 2; i++) expect((await page(url)).status).toBe(200);
    const calls = upstreamCalls(bed);

    const refused = await page(url);

    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await refused.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe('RATE_LIMITED');
    expect(upstreamCalls(bed)).toBe(calls);
    expect(await metrics.registry.metrics()).toMatch(
      /bff_rate_limited_requests_total\{viewer="anonymous"\} 1/,
    );
  });

  it('counts a signed-in viewer by user id, apart from the address they share', async () => {
    const { bed, url } = await limitedGateway(2);
    const alice = { authorization: `Bearer ${await bed.tokenFor('alice')}` };
    const bob = { authorization: `Bearer ${await bed.tokenFor('bob')}` };
    for (let i = 0; i < 2; i++) expect((await page(url)).status).toBe(200);

    expect((await page(url)).status).toBe(429); // the anonymous visitor at this address
    expect((await page(url, alice)).status).toBe(200);
    expect((await page(url, alice)).status).toBe(200);
    expect((await page(url, bob)).status).toBe(200);
    const refused = await page(url, alice);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('does not count health, readiness or metrics requests', async () => {
    const { url } = await limitedGateway(1);
    for (const path of ['/health', '/ready', '/metrics', '/health']) {
      expect((await fetch(`${url}${path}`)).status).toBe(200);
    }
    expect((await page(url)).status).toBe(200);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const { url } = await limitedGateway(1);
    expect((await page(url, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
    expect((await page(url, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(429);
  });

  it('believes X-Forwarded-For from a trusted proxy: each forwarded client counted apart', async () => {
    const { url } = await limitedGateway(1, ['loopback']);
    expect((await page(url, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
    expect((await page(url, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(200);
    expect((await page(url, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
    // A client-sent hop left of the proxy's own entry cannot pick another identity.
    expect((await page(url, { 'x-forwarded-for': '198.51.100.7, 203.0.113.1' })).status).toBe(429);
  });

  it('has no limiter at all when the limit is 0', () => {
    const limiter: ViewerLimiter | null = createViewerLimiter({
      perMinute: 0,
      connection: null,
      metrics: createMetrics().shared,
    });
    expect(limiter).toBeNull();
  });
});
