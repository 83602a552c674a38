import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleAll,
} from 'cockatiel';
import { Redis, ReplyError } from 'ioredis';
import type { RedisConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { SharedStateMetrics } from '../observability/metrics.js';
import { createStateTracker, type StateTracker } from './state-tracker.js';

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
  run<T>(command: (client: Redis) => Promise<T>): Promise<T | undefined>;
  /** Fire-and-forget: the caller never waits for a write. */
  write(command: (client: Redis) => Promise<unknown>): void;
  /** `run` as a yes/no: whether Redis can be asked right now (breaker closed or probing). */
  readonly usable: boolean;
  readonly tracker: StateTracker;
  readonly client: Redis;
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
 * as the process lives.
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
  const client = new Redis(url, {
    keyPrefix,
    commandTimeout: timeoutMs,
    connectTimeout: 2000,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Reconnect forever, at most every 2 s (plus jitter so replicas spread out).
    retryStrategy: (times) => Math.min(100 * times, 2000) + Math.floor(Math.random() * 100),
    lazyConnect: true,
    connectionName: 'homepage-bff',
  });
  client.on('ready', () => tracker.note('up'));
  // Emitted on every failed reconnect: the tracker logs only the change.
  client.on('error', (error: Error) => tracker.note('down', error.message));
  client.on('close', () => tracker.note('down', 'connection closed'));
  client.connect().catch(() => {}); // reported through the 'error' event

  const breaker = circuitBreaker(handleAll, {
    halfOpenAfter: breakerHalfOpenMs,
    breaker: new ConsecutiveBreaker(BREAKER_THRESHOLD),
  });

  async function run<T>(command: (redis: Redis) => Promise<T>): Promise<T | undefined> {
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
