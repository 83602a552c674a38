import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { limitAnonymousPages } from '../src/inbound/limit-anonymous-pages.js';
import { promoHandler, PROMOTIONS } from './helpers/fixtures.js';
import { HOMEPAGE_QUERY } from './helpers/gateway.js';
import { useListening } from './helpers/listening.js';
import { expectCompletePage } from './helpers/pages.js';
import { connected, stored } from './helpers/redis.js';
import { useReplicas } from './helpers/replicas.js';

// Two replicas (two gateways, each with its own upstreams and its own Redis
// connection) in front of one real redis-server.

const { startBed, redisServers, startReplicaPair } = useReplicas();
const listen = useListening();

describe('replicas sharing one Redis', () => {
  it('replica B serves the promo and books replica A fetched, with no promo or catalog call', async () => {
    const redis = await redisServers.start();
    const [{ bed: a }, { bed: b }] = await startReplicaPair(redis);

    expectCompletePage(await a.query(HOMEPAGE_QUERY));
    await stored(redis, 'v1:{promo}', 'v1:book:b-1', 'v1:book:b-2');
    expectCompletePage(await b.query(HOMEPAGE_QUERY));

    expect(a.upstreams.promo.requests).toHaveLength(1);
    expect(a.upstreams.catalog.requests).toHaveLength(1);
    expect(b.upstreams.promo.requests).toHaveLength(0);
    expect(b.upstreams.catalog.requests).toHaveLength(0);
  });

  it('registers an automatic persisted query on replica A that replica B then runs by hash alone', async () => {
    const redis = await redisServers.start();
    const [{ bed: a }, { bed: b }] = await startReplicaPair(redis);
    // Not a trusted document (those run by id anyway): an ad-hoc query of a client's.
    const query = 'query PromoIds { homepage { promo { id } } }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const promoIds = PROMOTIONS.map(({ id }) => ({ id }));
    const persistedQuery = { version: 1, sha256Hash };
    const post = (bed: typeof a, body: object) =>
      bed.request({
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });

    const unknown = await post(b, { extensions: { persistedQuery } });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const registered = await post(a, { query, extensions: { persistedQuery } });
    expect(registered.body.data?.homepage.promo).toEqual(promoIds);
    await stored(redis, `v1:apq:sha256:${sha256Hash}`);

    const byHash = await post(b, { extensions: { persistedQuery } });
    expect(byHash.body.errors).toBeUndefined();
    expect(byHash.body.data?.homepage.promo).toEqual(promoIds);
  });

  it('never stores recommendations in Redis: each replica asks for them', async () => {
    const redis = await redisServers.start();
    const beds = (await startReplicaPair(redis)).map(({ bed }) => bed);
    for (const bed of beds) {
      const token = await bed.tokenFor('u-42');
      const { body } = await bed.query(HOMEPAGE_QUERY, { authorization: `Bearer ${token}` });
      expect(body.errors).toBeUndefined();
      expect(body.data?.homepage.recommendations[0].book.id).toBe('b-u-42');
    }
    await stored(redis, 'v1:{promo}', 'v1:book:b-u-42');

    for (const bed of beds) expect(bed.upstreams.recommendations.requests).toHaveLength(1);
    const keys = await redis.admin.keys('*');
    expect(
      keys.filter((key) => /recommend|u-42:|user/i.test(key) && !key.includes('book')),
    ).toEqual([]);
    for (const key of keys.filter((key) => key.includes(':book:'))) {
      expect(await redis.admin.get(key)).not.toMatch(/Picked for/);
    }
  });

  it('refreshes promo once across replicas: the other waits for the result in Redis', async () => {
    const redis = await redisServers.start();
    const [first, second] = [1, 2].map(() => redisServers.connect(redis));
    await Promise.all([connected(first!), connected(second!)]);
    // One slow promo service behind both replicas, so both miss at the same time.
    const a = await startBed({
      redisConnection: first!,
      timeoutsMs: { promo: 3000 },
      handlers: {
        promo: (req, res, url) => void setTimeout(() => void promoHandler()(req, res, url), 300),
      },
    });
    const b = await startBed({
      redisConnection: second!,
      timeoutsMs: { promo: 3000 },
      urls: { promo: a.upstreams.promo.url },
    });
    const pages = await Promise.all([a, b].map((bed) => bed.query(HOMEPAGE_QUERY)));

    for (const page of pages) expectCompletePage(page);
    expect(a.upstreams.promo.requests).toHaveLength(1);
  });

  it('counts a signed-in viewer’s pages across replicas and refuses the one over the limit', async () => {
    const redis = await redisServers.start();
    const [{ bed: a }, { bed: b }] = await startReplicaPair(redis, { perMinute: 3 });
    const authorization = `Bearer ${await a.tokenFor('u-7')}`;

    for (const bed of [a, b, a]) {
      expect((await bed.query(HOMEPAGE_QUERY, { authorization })).status).toBe(200);
    }
    const callsBefore = b.upstreams.recommendations.requests.length;
    const refused = await b.query(HOMEPAGE_QUERY, { authorization });

    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(b.upstreams.recommendations.requests).toHaveLength(callsBefore);
    // Another viewer is counted apart.
    const other = `Bearer ${await a.tokenFor('u-8')}`;
    expect((await b.query(HOMEPAGE_QUERY, { authorization: other })).status).toBe(200);
  });

  it('counts an anonymous client’s pages across replicas, in front of yoga', async () => {
    const redis = await redisServers.start();
    const urls = await Promise.all(
      (await startReplicaPair(redis, { perMinute: 3 })).map(async ({ bed, rateLimiter }) => {
        const { origin } = await listen(bed.gateway, [
          limitAnonymousPages({ limiter: rateLimiter!, trustedProxies: [] }),
        ]);
        return origin;
      }),
    );
    const page = (url: string) =>
      fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: HOMEPAGE_QUERY }),
      });

    const statuses = [];
    for (const url of [urls[0]!, urls[1]!, urls[0]!, urls[1]!])
      statuses.push((await page(url)).status);

    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await redis.admin.keys('homepage-bff:v1:gcra:*')).toHaveLength(1);
  });
});
