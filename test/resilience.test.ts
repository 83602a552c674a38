import { describe, expect, it } from 'vitest';
import { POPULAR, PROMOTIONS, picksFor, promotion } from './helpers/fixtures.js';
import { HOMEPAGE_QUERY, useTestBeds } from './helpers/gateway.js';
import { sendJson, type Handler } from './helpers/upstream.js';

const startBed = useTestBeds();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PROMO_QUERY = '{ homepage { promo { id } } }';
const promoIds = PROMOTIONS.map((p) => ({ id: p.id }));
/** No shared promo cache: every request reaches the promo service. */
const uncached = { ttlMs: 0, staleWhileRevalidateMs: 0, staleIfErrorMs: 0 };

/** A promo service whose health the test switches. */
function switchable(headers: Record<string, string> = {}) {
  const state = { healthy: true };
  const handler: Handler = (_req, res) => {
    if (!state.healthy) return sendJson(res, { error: 'down' }, 503);
    res.setHeader('cache-control', headers['cache-control'] ?? '');
    sendJson(res, { promotions: PROMOTIONS });
  };
  return { state, handler };
}

describe('retries', () => {
  it('retries a 503 once and serves the answer', async () => {
    let calls = 0;
    const bed = await startBed({
      promoCache: uncached,
      handlers: {
        promo: (_req, res) =>
          ++calls === 1 ? sendJson(res, {}, 503) : sendJson(res, { promotions: PROMOTIONS }),
      },
    });
    const { body } = await bed.query(PROMO_QUERY);

    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.promo).toEqual(promoIds);
    expect(bed.upstreams.promo.requests).toHaveLength(2);
  });

  it('honours a 429 Retry-After that fits the deadline', async () => {
    let calls = 0;
    const bed = await startBed({
      promoCache: uncached,
      handlers: {
        promo: (_req, res) => {
          if (++calls > 1) return sendJson(res, { promotions: PROMOTIONS });
          res.writeHead(429, { 'retry-after': '1' });
          res.end();
        },
      },
    });
    const { body } = await bed.query(PROMO_QUERY);

    expect(body.errors).toBeUndefined();
    expect(bed.upstreams.promo.requests).toHaveLength(2);
  });

  it('does not retry when the policy says none', async () => {
    const bed = await startBed({
      promoCache: uncached,
      policies: { promo: { retries: 0 } },
      handlers: { promo: (_req, res) => sendJson(res, {}, 503) },
    });
    const { body } = await bed.query(PROMO_QUERY);

    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'UPSTREAM_UNAVAILABLE',
      service: 'promo',
    });
    expect(bed.upstreams.promo.requests).toHaveLength(1);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, sends zero calls while open, and closes after a good probe', async () => {
    const promo = switchable();
    const bed = await startBed({
      promoCache: uncached,
      policies: { promo: { retries: 0, breaker: { threshold: 3, halfOpenAfterMs: 300 } } },
      handlers: { promo: promo.handler },
    });
    const codeOf = async () => (await bed.query(PROMO_QUERY)).body.errors?.[0]?.extensions?.code;

    promo.state.healthy = false;
    for (let i = 0; i < 3; i++) expect(await codeOf()).toBe('UPSTREAM_UNAVAILABLE');
    expect(bed.upstreams.promo.requests).toHaveLength(3);

    // Open: fails at once, the upstream sees nothing.
    const open = await bed.query(PROMO_QUERY);
    expect(open.body.data?.homepage.promo).toBeNull();
    expect(open.body.errors?.[0]?.extensions).toEqual({
      code: 'UPSTREAM_UNAVAILABLE',
      service: 'promo',
    });
    expect(bed.upstreams.promo.requests).toHaveLength(3);

    // Recovered: after the half-open delay one probe goes through and closes it.
    promo.state.healthy = true;
    await sleep(400);
    expect(await codeOf()).toBeUndefined();
    expect(await codeOf()).toBeUndefined();
    expect(bed.upstreams.promo.requests).toHaveLength(5);
  });

  it('counts a call that succeeds on its retry as a success', async () => {
    let n = 0;
    const bed = await startBed({
      promoCache: uncached,
      policies: { promo: { retries: 1, breaker: { threshold: 1, halfOpenAfterMs: 60_000 } } },
      handlers: {
        promo: (_req, res) =>
          ++n % 2 === 1 ? sendJson(res, {}, 503) : sendJson(res, { promotions: PROMOTIONS }),
      },
    });
    for (let i = 0; i < 4; i++) {
      expect((await bed.query(PROMO_QUERY)).body.data?.homepage.promo).toEqual(promoIds);
    }
    expect(bed.upstreams.promo.requests).toHaveLength(8);
  });

  it('does not count bad payloads towards opening', async () => {
    const bed = await startBed({
      promoCache: uncached,
      policies: { promo: { retries: 0, breaker: { threshold: 2, halfOpenAfterMs: 60_000 } } },
      handlers: { promo: (_req, res) => sendJson(res, { wrong: 'shape' }) },
    });
    for (let i = 0; i < 4; i++) await bed.query(PROMO_QUERY);
    expect(bed.upstreams.promo.requests).toHaveLength(4);
  });

  it('keeps one upstream’s open breaker from touching the others', async () => {
    const bed = await startBed({
      promoCache: uncached,
      policies: { promo: { retries: 0, breaker: { threshold: 1, halfOpenAfterMs: 60_000 } } },
      handlers: { promo: (_req, res) => sendJson(res, {}, 503) },
    });
    await bed.query(HOMEPAGE_QUERY);
    const { body } = await bed.query(HOMEPAGE_QUERY);

    expect(body.data?.homepage.promo).toBeNull();
    expect(body.data?.homepage.recommendations).toHaveLength(POPULAR.length);
    expect(bed.upstreams.promo.requests).toHaveLength(1);
    expect(bed.upstreams.recommendations.requests).toHaveLength(2);
  });
});

describe('shared promo cache', () => {
  it('serves promotions to many requests from one upstream call', async () => {
    const bed = await startBed();
    for (let i = 0; i < 3; i++) {
      expect((await bed.query(PROMO_QUERY)).body.data?.homepage.promo).toEqual(promoIds);
    }
    expect(bed.upstreams.promo.requests).toHaveLength(1);
  });

  it('shares one upstream call between concurrent misses', async () => {
    const bed = await startBed({
      handlers: {
        promo: (_req, res) => {
          setTimeout(() => sendJson(res, { promotions: PROMOTIONS }), 100);
        },
      },
    });
    const results = await Promise.all(Array.from({ length: 5 }, () => bed.query(PROMO_QUERY)));

    for (const { body } of results) expect(body.data?.homepage.promo).toEqual(promoIds);
    expect(bed.upstreams.promo.requests).toHaveLength(1);
  });

  it('does not keep what the promo service marks no-store', async () => {
    const promo = switchable({ 'cache-control': 'no-store' });
    const bed = await startBed({ handlers: { promo: promo.handler } });
    await bed.query(PROMO_QUERY);
    await bed.query(PROMO_QUERY);
    expect(bed.upstreams.promo.requests).toHaveLength(2);
  });

  it("keeps promotions for the promo service's max-age even past the configured TTL", async () => {
    const promo = switchable({ 'cache-control': 'public, max-age=60' });
    const bed = await startBed({
      promoCache: { ttlMs: 1, staleWhileRevalidateMs: 0 },
      handlers: { promo: promo.handler },
    });
    await bed.query(PROMO_QUERY);
    await sleep(20);
    await bed.query(PROMO_QUERY);
    expect(bed.upstreams.promo.requests).toHaveLength(1);
  });

  it('serves the last good promotions when the service fails, and says they are stale', async () => {
    const promo = switchable();
    const bed = await startBed({
      promoCache: { ttlMs: 20, staleWhileRevalidateMs: 0, staleIfErrorMs: 60_000 },
      handlers: { promo: promo.handler },
    });
    await bed.query(PROMO_QUERY);
    promo.state.healthy = false;
    await sleep(50);
    const { body } = await bed.query(PROMO_QUERY);

    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.promo).toEqual(promoIds);
    expect(body.extensions).toEqual({
      stale: [
        { path: ['homepage', 'promo'], ageSeconds: expect.any(Number), reason: 'upstream_failed' },
      ],
    });
  });
});

describe('fallbacks', () => {
  it('shows the house banners when promo has nothing fresh or stale, and says so', async () => {
    const house = [promotion('house-1', null)];
    const bed = await startBed({
      fallbacks: { houseBanners: house },
      handlers: { promo: (_req, res) => sendJson(res, {}, 500) },
    });
    const { body } = await bed.query(PROMO_QUERY);

    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.promo).toEqual([{ id: 'house-1' }]);
    expect(body.extensions).toEqual({
      fallbacks: [
        {
          path: ['homepage', 'promo'],
          fallback: 'house_banners',
          code: 'UPSTREAM_UNAVAILABLE',
          service: 'promo',
        },
      ],
    });
  });

  const personalDown: Handler = (_req, res, url) =>
    url.pathname === '/recommendations/popular'
      ? sendJson(res, { items: POPULAR })
      : sendJson(res, { error: 'down' }, 500);

  it('gives a signed-in user popular picks when the personal ones fail, and says so', async () => {
    const bed = await startBed({ handlers: { recommendations: personalDown } });
    const { body } = await bed.query('{ homepage { recommendations { book { id } } } }', {
      authorization: `Bearer ${await bed.tokenFor('u-1')}`,
    });

    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.recommendations).toEqual(
      POPULAR.map((p) => ({ book: { id: p.bookId } })),
    );
    expect(body.extensions).toEqual({
      fallbacks: [
        {
          path: ['homepage', 'recommendations'],
          fallback: 'popular',
          code: 'UPSTREAM_UNAVAILABLE',
          service: 'recommendations',
        },
      ],
    });
    expect(bed.upstreams.recommendations.requests.map((r) => r.path)).toEqual([
      '/users/u-1/recommendations',
      '/recommendations/popular',
    ]);
  });

  it('reports the personal failure when the fallback is off', async () => {
    const bed = await startBed({
      fallbacks: { recommendations: 'none' },
      handlers: { recommendations: personalDown },
    });
    const { body } = await bed.query('{ homepage { recommendations { score } } }', {
      authorization: `Bearer ${await bed.tokenFor('u-1')}`,
    });

    expect(body.data?.homepage.recommendations).toBeNull();
    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'UPSTREAM_UNAVAILABLE',
      service: 'recommendations',
    });
  });

  it('reports the original failure when the popular fallback fails too', async () => {
    const bed = await startBed({
      handlers: { recommendations: (_req, res) => sendJson(res, {}, 500) },
    });
    const { body } = await bed.query('{ homepage { recommendations { score } } }', {
      authorization: `Bearer ${await bed.tokenFor('u-1')}`,
    });

    expect(body.data?.homepage.recommendations).toBeNull();
    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'UPSTREAM_UNAVAILABLE',
      service: 'recommendations',
    });
  });
});

describe('personal data', () => {
  it("never serves one user's recommendations to another", async () => {
    const bed = await startBed();
    const reasons = [];
    for (const user of ['u-1', 'u-2', 'u-1']) {
      const { body } = await bed.query('{ homepage { recommendations { reason } } }', {
        authorization: `Bearer ${await bed.tokenFor(user)}`,
      });
      reasons.push(body.data?.homepage.recommendations[0].reason);
    }
    expect(reasons).toEqual(['u-1', 'u-2', 'u-1'].map((u) => picksFor(u)[0]?.reason));
    expect(bed.upstreams.recommendations.requests).toHaveLength(3);
  });
});

describe('everything at once', () => {
  it('answers by the deadline when every upstream hangs, with every field null and coded', async () => {
    const hang: Handler = () => {};
    const bed = await startBed({
      requestDeadlineMs: 400,
      timeoutsMs: { promo: 10_000, recommendations: 10_000, catalog: 10_000 },
      handlers: { promo: hang, recommendations: hang, catalog: hang },
    });
    const started = performance.now();
    const { status, body } = await bed.query(HOMEPAGE_QUERY);
    const elapsed = performance.now() - started;

    expect(status).toBe(200);
    expect(body.data).toEqual({ homepage: { promo: null, recommendations: null } });
    expect(
      body.errors
        ?.map((e) => [e.path, e.extensions?.code])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      [['homepage', 'promo'], 'UPSTREAM_TIMEOUT'],
      [['homepage', 'recommendations'], 'UPSTREAM_TIMEOUT'],
    ]);
    // The contract is "by the deadline": a generous margin keeps this about
    // hanging (no answer for 10 s), not about speed.
    expect(elapsed).toBeLessThan(400 + 1500);
  });
});
