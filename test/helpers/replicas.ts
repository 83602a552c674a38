import type { Logger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { createViewerLimiter, type ViewerLimiter } from '../../src/rate-limit/viewer-limiter.js';
import type { RedisConnection } from '../../src/redis/connection.js';
import { useTestBeds, type TestBed } from './gateway.js';
import { connected, useRedis, type TestRedis } from './redis.js';

/** One replica in front of a shared Redis: its own connection (ready), metrics and gateway. */
export type Replica = {
  bed: TestBed;
  connection: RedisConnection;
  metrics: Metrics;
  /** Counts in Redis; null unless `perMinute` was given. */
  rateLimiter: ViewerLimiter | null;
};

/** Options of `startReplica`. */
export type ReplicaOptions = {
  /** The viewer rate limit (RATE_LIMIT_PER_MINUTE); none unless given. */
  perMinute?: number;
  /** REDIS_TIMEOUT_MS, as `useRedis().connect` takes it. */
  timeoutMs?: number;
  logger?: Logger;
};

/**
 * For a test file: test beds and Redis servers (both closed after each test),
 * and replicas built from them as build-server.ts wires one.
 */
export function useReplicas() {
  const startBed = useTestBeds();
  const redisServers = useRedis();

  async function startReplica(
    redis: TestRedis,
    { perMinute, timeoutMs, logger }: ReplicaOptions = {},
  ): Promise<Replica> {
    const metrics = createMetrics();
    const connection = redisServers.connect(redis, { metrics: metrics.shared, timeoutMs, logger });
    await connected(connection);
    const rateLimiter =
      perMinute === undefined
        ? null
        : createViewerLimiter({ perMinute, connection, metrics: metrics.shared });
    const bed = await startBed({ redisConnection: connection, rateLimiter, metrics });
    return { bed, connection, metrics, rateLimiter };
  }

  /** Two replicas on `redis`, started side by side. */
  async function startReplicaPair(
    redis: TestRedis,
    options?: ReplicaOptions,
  ): Promise<[Replica, Replica]> {
    const [a, b] = await Promise.all([startReplica(redis, options), startReplica(redis, options)]);
    return [a, b];
  }

  return { startBed, redisServers, startReplica, startReplicaPair };
}
