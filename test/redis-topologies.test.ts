import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { silentSharedMetrics } from '../src/observability/metrics.js';
import { createViewerLimiter } from '../src/rate-limit/viewer-limiter.js';
import { createCachePurge } from '../src/cache/purge-caches.js';
import type { SwrCache } from '../src/cache/swr-cache.js';
import { createRedisConnection, type RedisConnection } from '../src/redis/connection.js';
import { createPurgeChannel, type PurgeMessage } from '../src/redis/purge-channel.js';
import { HOMEPAGE_QUERY, useTestBeds } from './helpers/gateway.js';
import { expectCompletePage } from './helpers/pages.js';
import { until, useRedisTopologies } from './helpers/redis-topologies.js';

// The gateway on a real Sentinel deployment (redis-server master and replica,
// redis-sentinel) and on a real three-node Redis Cluster, reached through
// REDIS_URL alone, as an operator configures it.

const topologies = useRedisTopologies();
const startBed = useTestBeds();
const connections: RedisConnection[] = [];
afterEach(() => {
  for (const connection of connections.splice(0)) connection.close();
});

/** One replica's Redis connection, built from REDIS_URL as build-server.ts builds it. */
async function connect(url: string, env: Record<string, string> = {}): Promise<RedisConnection> {
  // 1 s rather than 50 ms: a busy test machine must not turn a hit into a miss.
  const config = loadConfig({ REDIS_URL: url, REDIS_TIMEOUT_MS: '1000', ...env });
  if (!config.redis) throw new Error('REDIS_URL was not taken');
  const connection = createRedisConnection({
    ...config.redis,
    logger: silentLogger,
    metrics: silentSharedMetrics,
    breakerHalfOpenMs: 100,
  });
  connections.push(connection);
  await until(async () => connection.client.status === 'ready');
  return connection;
}

describe('Redis behind Sentinel', () => {
  it('serves every page complete through a failover, then shares through the new master', async () => {
    const sentinels = await topologies.startSentinels();
    const oldMaster = await sentinels.masterPort();
    // No local copy of shared values: every page asks Redis, during the failover too.
    const local = { REDIS_LOCAL_TTL_MS: '0' };
    const [connectionA, connectionB] = [
      await connect(sentinels.url, local),
      await connect(sentinels.url, local),
    ];
    const a = await startBed({ redisConnection: connectionA });
    const b = await startBed({ redisConnection: connectionB });
    expectCompletePage(await a.query(HOMEPAGE_QUERY));

    // Pages keep coming while the sentinel promotes the replica.
    let serving = true;
    const pages: Array<Awaited<ReturnType<typeof a.query>>> = [];
    const traffic = (async () => {
      while (serving) pages.push(await a.query(HOMEPAGE_QUERY));
    })();
    const newMaster = await sentinels.failover();
    expect(newMaster).not.toBe(oldMaster);
    // Both replicas' connections find the new master: a write through each lands there.
    const onNewMaster = sentinels.nodes.get(newMaster);
    for (const [index, connection] of [connectionA, connectionB].entries()) {
      await until(async () => {
        await connection.run((redis) => redis.set(`probe:${index}`, 'x'));
        return (await onNewMaster?.exists(`homepage-bff:probe:${index}`)) === 1;
      }, 15_000);
    }
    serving = false;
    await traffic;
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) expectCompletePage(page);

    // Replica B, which never asked promo or the catalog, gets both from the new master.
    expectCompletePage(await b.query(HOMEPAGE_QUERY));
    expect(b.upstreams.promo.requests).toHaveLength(0);
    expect(b.upstreams.catalog.requests).toHaveLength(0);
    // And what B fetches now is written to the new master.
    const token = await b.tokenFor('u-42');
    const signedIn = await b.query(HOMEPAGE_QUERY, { authorization: `Bearer ${token}` });
    expect(signedIn.body.errors).toBeUndefined();
    await until(async () => (await onNewMaster?.exists('homepage-bff:v1:book:b-u-42')) === 1);
  });
});

describe('Redis Cluster', () => {
  it('shares promo, books and rate-limit counts across replicas, with keys spread over the nodes, and serves pages without it', async () => {
    const cluster = await topologies.startCluster();
    const [connectionA, connectionB] = [await connect(cluster.url), await connect(cluster.url)];
    const a = await startBed({ redisConnection: connectionA });
    const b = await startBed({ redisConnection: connectionB });

    expectCompletePage(await a.query(HOMEPAGE_QUERY));
    const books = ['homepage-bff:v1:book:b-1', 'homepage-bff:v1:book:b-2'];
    await until(async () => {
      const found = await Promise.all(
        ['homepage-bff:v1:{promo}', ...books].map((key) => cluster.admin.exists(key)),
      );
      return found.every((count) => count === 1);
    });
    // The books lie in different hash slots: one MGET of both would be refused (CROSSSLOT).
    const slots = await Promise.all(
      books.map((key) => cluster.admin.call('CLUSTER', 'KEYSLOT', key)),
    );
    expect(new Set(slots).size).toBe(2);

    expectCompletePage(await b.query(HOMEPAGE_QUERY));
    expect(b.upstreams.promo.requests).toHaveLength(0);
    expect(b.upstreams.catalog.requests).toHaveLength(0);

    // A viewer's pages are counted across replicas (rate-limiter-flexible on the Cluster client).
    const [limitA, limitB] = [connectionA, connectionB].map((connection) =>
      createViewerLimiter({ perMinute: 1, connection, metrics: silentSharedMetrics }),
    );
    const viewer = { kind: 'user', userId: 'u-7' } as const;
    expect(await limitA?.check(viewer)).toEqual({ allowed: true });
    expect(await limitB?.check(viewer)).toMatchObject({ allowed: false });

    // A purge on a Cluster deletes the copies on every master (SCAN reaches one
    // node only), one key at a time, and the other replica's subscriber hears it.
    const heard: PurgeMessage[] = [];
    const listening = createPurgeChannel({
      connection: connectionB,
      onPurge: (message) => heard.push(message),
      logger: silentLogger,
    });
    await until(
      async () =>
        (await cluster.admin
          .call('PUBSUB', 'NUMSUB', 'homepage-bff:v1:purge')
          .then((reply) => Number((reply as unknown[])[1]))) > 0,
    );
    // Only `purge()` of the memory levels is used; the Redis side is what is tested.
    const memoryLevel = { purge: () => {} } as unknown as SwrCache<unknown>;
    const purge = createCachePurge({
      promo: memoryLevel,
      books: null,
      pages: undefined,
      connection: connectionA,
      logger: silentLogger,
    });
    const result = await purge.purge({ targets: ['promo', 'books'], tag: null });
    expect(result).toMatchObject({ redis: 'purged', keysDeleted: 3 });
    const left = await Promise.all(
      ['homepage-bff:v1:{promo}', ...books].map((key) => cluster.admin.exists(key)),
    );
    expect(left).toEqual([0, 0, 0]);
    await until(async () => heard.length > 0);
    expect(heard[0]).toEqual({ targets: ['promo', 'books'], tag: null });
    purge.close();
    listening.close();

    // The whole cluster gone: a replica with nothing in memory still serves complete pages.
    cluster.kill();
    const c = await startBed({ redisConnection: connectionA });
    expectCompletePage(await c.query(HOMEPAGE_QUERY));
    expect(c.upstreams.promo.requests).toHaveLength(1);
  });
});
