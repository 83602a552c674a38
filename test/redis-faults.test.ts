import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/logger.js';
import type { RedisConnection } from '../src/redis/connection.js';
import { book, PROMOTIONS } from './helpers/fixtures.js';
import { HOMEPAGE_QUERY, type TestBed } from './helpers/gateway.js';
import { expectCompletePage } from './helpers/pages.js';
import { connected, stored, type TestRedis } from './helpers/redis.js';
import { useReplicas, type ReplicaOptions } from './helpers/replicas.js';

// Redis is only ever a cache: whatever happens to it, every page is complete.
// Assertions count upstream calls and check pages, never timings.

const { startBed, redisServers, startReplica, startReplicaPair } = useReplicas();

/** A replica with a rate limit high enough never to refuse: the limiter meets Redis's faults too. */
const replica = (redis: TestRedis, options: Omit<ReplicaOptions, 'perMinute'> = {}) =>
  startReplica(redis, { perMinute: 1000, ...options });

const metricsText = async (bed: TestBed) =>
  (await bed.gateway.fetch('http://gateway.test/metrics')).text();

/** Pages from a replica that has never seen the home page, then its upstream calls. */
async function coldPages(bed: TestBed, count: number) {
  for (let i = 0; i < count; i++) {
    const authorization = `Bearer ${await bed.tokenFor(`u-${i}`)}`;
    const page = await bed.query(HOMEPAGE_QUERY, i % 2 === 0 ? {} : { authorization });
    expect(page.status).toBe(200);
    expect(page.body.errors).toBeUndefined();
    expect(page.body.data?.homepage.promo).toHaveLength(PROMOTIONS.length);
  }
}

describe('pages while Redis misbehaves', () => {
  it('serves every page complete when Redis is killed, each replica fetching for itself', async () => {
    const redis = await redisServers.start();
    const a = await replica(redis);
    expectCompletePage(await a.bed.query(HOMEPAGE_QUERY));
    const b = await replica(redis);
    await redis.kill();

    for (let i = 0; i < 5; i++) expectCompletePage(await b.bed.query(HOMEPAGE_QUERY));
    await coldPages(b.bed, 4);

    // Redis was down when B first asked: it loaded promo and the books itself, once.
    expect(b.bed.upstreams.promo.requests).toHaveLength(1);
    expect(b.bed.upstreams.catalog.requests.length).toBeGreaterThanOrEqual(1);
    expect((await b.bed.request({ method: 'GET', path: '/ready' })).status).toBe(200);
    expect(b.connection.tracker.state).toBe('down');
    expect(await metricsText(b.bed)).toMatch(/bff_redis_state\{state="down"\} 1/);
  });

  it('serves every page complete when Redis is paused (SIGSTOP), its commands timing out', async () => {
    const redis = await redisServers.start();
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (message: unknown) => warnings.push(String(message)) };
    const b = await replica(redis, { timeoutMs: 50, logger });
    redis.pause();

    for (let i = 0; i < 5; i++) expectCompletePage(await b.bed.query(HOMEPAGE_QUERY));
    await coldPages(b.bed, 4);

    expect(b.bed.upstreams.promo.requests).toHaveLength(1);
    expect(b.bed.upstreams.catalog.requests).toHaveLength(1 + 2); // b-1/b-2, then b-u-1, b-u-3
    expect(b.connection.tracker.state).toBe('timeouts');
    // Once per change of state, never once per request.
    expect(warnings.filter((warning) => warning.includes('Redis'))).toHaveLength(1);
    expect(await metricsText(b.bed)).toMatch(
      /bff_redis_command_failures_total\{kind="timeout"\} [1-9]/,
    );
    redis.resume();
  });

  it('treats garbage in Redis as a miss: pages complete, the upstreams asked, the garbage counted', async () => {
    const redis = await redisServers.start();
    await redis.admin.set('homepage-bff:v1:{promo}', 'not json at all');
    await redis.admin.set(
      'homepage-bff:v1:book:b-1',
      JSON.stringify({ expiresAt: Date.now() + 60_000, book: { id: 'b-1', title: 42 } }),
    );
    // A book stored under another id's key is garbage too.
    await redis.admin.set(
      'homepage-bff:v1:book:b-2',
      JSON.stringify({ expiresAt: Date.now() + 60_000, book: book('b-9') }),
    );
    const b = await replica(redis);

    expectCompletePage(await b.bed.query(HOMEPAGE_QUERY));

    expect(b.bed.upstreams.promo.requests).toHaveLength(1);
    expect(b.bed.upstreams.catalog.requests).toHaveLength(1);
    expect(
      b.bed.upstreams.catalog.requests[0]?.url.searchParams.get('ids')?.split(',').sort(),
    ).toEqual(['b-1', 'b-2']);
    const text = await metricsText(b.bed);
    expect(text).toMatch(/bff_redis_invalid_values_total\{cache="promo"\} 1/);
    expect(text).toMatch(/bff_redis_invalid_values_total\{cache="catalog"\} 2/);
    // The good values replace the garbage.
    await stored(redis, 'v1:{promo}');
    expect(
      JSON.parse((await redis.admin.get('homepage-bff:v1:{promo}')) ?? '{}').value,
    ).toHaveLength(PROMOTIONS.length);
  });

  it('treats a key of the wrong type (Redis refusing the command) as a miss', async () => {
    const redis = await redisServers.start();
    await redis.admin.hset('homepage-bff:v1:{promo}', 'field', 'value');
    await redis.admin.lpush('homepage-bff:v1:lock:{promo}', 'x');
    const b = await replica(redis);

    expectCompletePage(await b.bed.query(HOMEPAGE_QUERY));

    expect(b.bed.upstreams.promo.requests).toHaveLength(1);
  });

  it('shares again once Redis is back after a restart', async () => {
    const redis = await redisServers.start();
    const first = await replica(redis);
    const second = await replica(redis);
    await redis.kill();
    expectCompletePage(await first.bed.query(HOMEPAGE_QUERY));

    await redis.restart();
    await Promise.all([first, second].map(({ connection }) => backUp(connection)));
    // New gateways on the same (reconnected) connections, so no memory level helps.
    const a = await startBed({ redisConnection: first.connection });
    const b = await startBed({ redisConnection: second.connection });
    expectCompletePage(await a.query(HOMEPAGE_QUERY));
    await stored(redis, 'v1:{promo}', 'v1:book:b-1', 'v1:book:b-2');
    expectCompletePage(await b.query(HOMEPAGE_QUERY));

    expect(a.upstreams.promo.requests).toHaveLength(1);
    expect(b.upstreams.promo.requests).toHaveLength(0);
    expect(b.upstreams.catalog.requests).toHaveLength(0);
  });

  it('limits per replica while Redis is down (fail-open): each counts the viewer alone', async () => {
    const redis = await redisServers.start();
    const [{ bed: a }, { bed: b }] = await startReplicaPair(redis, { perMinute: 2 });
    await redis.kill();
    const authorization = `Bearer ${await a.tokenFor('u-7')}`;

    const statuses = [];
    for (const bed of [a, a, a, b, b, b]) {
      statuses.push((await bed.query(HOMEPAGE_QUERY, { authorization })).status);
    }

    expect(statuses).toEqual([200, 200, 429, 200, 200, 429]);
  });
});

/** Waits until the connection is ready and its breaker lets commands through. */
async function backUp(connection: RedisConnection) {
  await connected(connection);
  for (let i = 0; i < 100; i++) {
    if ((await connection.run((redis) => redis.ping())) === 'PONG') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('Redis never answered again');
}
