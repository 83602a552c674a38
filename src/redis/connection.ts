import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleAll,
} from 'cockatiel';
import { Cluster, Redis, ReplyError, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { SharedStateMetrics } from '../observability/metrics.js';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';
import { createStateTracker, type StateTracker } from './state-tracker.js';

/**
 * A client of any topology (a server, a Sentinel-watched master, a Cluster):
 * the commands the gateway uses are the same on each. Keys of one multi-key
 * command must share a hash slot (redis/keys.ts); see read-many.ts for reads
 * of unrelated keys.
 */
export type RedisClient = Redis | Cluster;

/** Consecutive failures that stop sending commands for a while. */
const BREAKER_THRESHOLD = 5;

/** Options of `createRedisConnection`. */
export type RedisConnectionOptions = RedisConfig & {
  logger: Logger;
  metrics: SharedStateMetrics;
  /** How long an open breaker sends nothing before one probe. Default 2000 ms. */
  breakerHalfOpenMs?: number;
};

/** The second level every replica shares, as the rest of the gateway sees it. */
export type RedisConnection = {
  /**
   * Runs `command`, or gives `undefined` when Redis is not usable: down,
   * refusing, slower than `timeoutMs`, or resting behind the open breaker.
   * Never throws; each failure is counted and fed to the state tracker.
   */
  run<T>(command: (client: RedisClient) => Promise<T>): Promise<T | undefined>;
  /** Fire-and-forget: the caller never waits for a write. */
  write(command: (client: RedisClient) => Promise<unknown>): void;
  /** `run` as a yes/no: whether Redis can be asked right now (breaker closed or probing). */
  readonly usable: boolean;
  readonly tracker: StateTracker;
  readonly client: RedisClient;
  /** How long a value read from Redis is served from process memory (REDIS_LOCAL_TTL_MS). */
  readonly localTtlMs: number;
  /** Drops the connection at once (shutdown, tests); pending writes are best effort. */
  close(): void;
};

/**
 * One ioredis client per process, configured so that Redis can never hold a page
 * up: a timeout on every command, no offline queue (a command while
 * disconnected fails at once instead of waiting for a reconnect), no retry of a
 * command whose connection dropped, and a breaker that stops asking altogether
 * after consecutive failures. A SIGSTOPped Redis keeps its TCP connection open
 * and `status` stays "ready", so only the timeouts reveal it: they feed the
 * breaker like any error. The connection is made in the background: startup
 * never waits for Redis, and reconnects go on (with a bounded delay) for as long
 * as the process lives. The same holds behind Sentinel (a failover drops the
 * connection; the reconnect asks the sentinels for the new master) and for a
 * Cluster (each node's connection has the same limits).
 */
export function createRedisConnection({
  url,
  keyPrefix,
  timeoutMs,
  localTtlMs,
  logger,
  metrics,
  breakerHalfOpenMs = 2000,
}: RedisConnectionOptions): RedisConnection {
  const tracker = createStateTracker({ logger, metrics });
  const client = createClient(parseRedisUrl(url), keyPrefix, timeoutMs);
  client.on('ready', () => tracker.note('up'));
  // Emitted on every failed reconnect: the tracker logs only the change.
  client.on('error', (error: Error) => tracker.note('down', error.message));
  client.on('close', () => tracker.note('down', 'connection closed'));
  client.connect().catch(() => {}); // reported through the 'error' event

  const breaker = circuitBreaker(handleAll, {
    halfOpenAfter: breakerHalfOpenMs,
    breaker: new ConsecutiveBreaker(BREAKER_THRESHOLD),
  });

  async function run<T>(command: (redis: RedisClient) => Promise<T>): Promise<T | undefined> {
    try {
      // ioredis times each command; `within` bounds the whole operation (a
      // pipeline, a script that needs EVALSHA then EVAL) by the same budget.
      const result = await breaker.execute(() => within(timeoutMs, command(client)));
      tracker.note('up');
      return result;
    } catch (error) {
      if (error instanceof BrokenCircuitError) return undefined; // already counted
      if (error instanceof ReplyError) {
        // Redis answered, refusing this command (e.g. a key of the wrong type): it is up.
        metrics.redisFailure('error');
        return undefined;
      }
      const timedOut =
        error instanceof OperationTimeout ||
        (error instanceof Error && error.message === 'Command timed out');
      metrics.redisFailure(timedOut ? 'timeout' : 'error');
      tracker.note(timedOut ? 'timeouts' : 'down', String(error));
      return undefined;
    }
  }

  return {
    run,
    write(command) {
      void run(command);
    },
    get usable() {
      return breaker.state === CircuitState.Closed || breaker.state === CircuitState.HalfOpen;
    },
    tracker,
    client,
    localTtlMs,
    close: () => client.disconnect(),
  };
}

// Private helpers.

// Reconnect forever, at most every 2 s (plus jitter so replicas spread out).
const reconnectDelay = (times: number) =>
  Math.min(100 * times, 2000) + Math.floor(Math.random() * 100);

/** The ioredis client for `target`, with the limits described on `createRedisConnection`. */
function createClient(target: RedisTarget, keyPrefix: string, timeoutMs: number): RedisClient {
  // What every connection to a Redis node gets, whatever the topology.
  const perNode = {
    keyPrefix,
    commandTimeout: timeoutMs,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectionName: 'homepage-bff',
  } satisfies RedisOptions;
  const asClient = { enableOfflineQueue: false, lazyConnect: true } as const;
  switch (target.kind) {
    case 'server':
      return new Redis(target.url, { ...perNode, ...asClient, retryStrategy: reconnectDelay });
    case 'sentinel':
      return new Redis({
        ...perNode,
        ...asClient,
        retryStrategy: reconnectDelay,
        sentinels: target.sentinels,
        name: target.name,
        db: target.db,
        username: target.username,
        password: target.password,
        sentinelPassword: target.sentinelPassword,
        sentinelRetryStrategy: reconnectDelay,
        // Also listens on the sentinels for +switch-master, so a failover is
        // followed at once rather than when the old master drops us.
        failoverDetector: true,
      });
    case 'cluster':
      return new Cluster(target.nodes, {
        ...asClient,
        keyPrefix,
        clusterRetryStrategy: reconnectDelay,
        // Commands to several nodes at once (read-many.ts) go out as one
        // pipeline per node.
        enableAutoPipelining: true,
        // A command caught in a resharding or failover is not retried past the budget.
        maxRedirections: 2,
        retryDelayOnFailover: 20,
        retryDelayOnClusterDown: 20,
        slotsRefreshTimeout: 2000,
        // The prefix is the Cluster's own (it picks the node by the prefixed key).
        redisOptions: {
          ...perNode,
          keyPrefix: undefined,
          username: target.username,
          password: target.password,
        },
      });
  }
}

/** A Redis operation that outlived REDIS_TIMEOUT_MS as a whole. */
class OperationTimeout extends Error {
  override name = 'OperationTimeout';
}

/**
 * `operation`, or an `OperationTimeout` after `ms`, with a plain timer cleared
 * as soon as it settles. Not cockatiel's `timeout` policy: called without a
 * signal, it derives each call's AbortController from one process-wide
 * never-aborted signal and adds an 'abort' listener to it for as long as the
 * call runs, so eleven Redis commands in flight at once (a burst of pages while
 * Redis is slow or restarting) raised `MaxListenersExceededWarning: 11 abort
 * listeners added to [AbortSignal]`. A timer holds no shared state.
 */
function within<T>(ms: number, operation: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OperationTimeout(`Redis operation took over ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([operation, expired]).finally(() => clearTimeout(timer));
}
