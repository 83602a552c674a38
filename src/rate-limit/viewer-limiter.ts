import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { SharedStateMetrics } from '../observability/metrics.js';
import type { RedisConnection } from '../redis/connection.js';
import { KEYS } from '../redis/keys.js';

/** Whose pages are counted: a verified user, else a client address. */
export type ViewerKey = { kind: 'user'; userId: string } | { kind: 'anonymous'; address: string };

export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Counts one page for a viewer and says whether it may be served. */
export type ViewerLimiter = { check(viewer: ViewerKey): Promise<LimitDecision> };

/** Options of `createViewerLimiter`. */
export type ViewerLimiterOptions = {
  /** Pages per minute per viewer (RATE_LIMIT_PER_MINUTE); 0: no limiter at all. */
  perMinute: number;
  /** Counts shared by every replica; `null`: this process counts alone. */
  connection: RedisConnection | null;
  metrics: SharedStateMetrics;
};

const ALLOWED: LimitDecision = { allowed: true };

/**
 * Pages per minute per viewer, with rate-limiter-flexible (fixed one-minute
 * windows, atomic in Redis through its Lua script). With Redis the count is
 * shared by every replica; when Redis is down, slow or behind its open breaker,
 * each replica counts in its own memory instead: the limit fails open to
 * "per replica" rather than refusing pages or letting everything through.
 *
 * The memory fallback plays the library's `insuranceLimiter` role, but is
 * called here rather than inside the library so that the limiter's Redis
 * failures go through the one connection policy (timeout, breaker, state log,
 * metrics) like every other Redis command.
 */
export function createViewerLimiter({
  perMinute,
  connection,
  metrics,
}: ViewerLimiterOptions): ViewerLimiter | null {
  if (perMinute <= 0) return null;
  const window = { points: perMinute, duration: 60 };
  const memory = new RateLimiterMemory({ ...window, keyPrefix: 'memory' });
  const shared =
    connection &&
    new RateLimiterRedis({
      ...window,
      storeClient: connection.client,
      keyPrefix: KEYS.rateLimit,
      // Disconnected: fail at once (to the memory count), never wait for a reconnect.
      rejectIfRedisNotReady: true,
    });

  const decide = (consume: Promise<unknown>): Promise<LimitDecision> =>
    consume.then(
      () => ALLOWED,
      (refusal: unknown) => {
        if (!(refusal instanceof RateLimiterRes)) throw refusal; // the store failed
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)),
        };
      },
    );

  return {
    async check(viewer) {
      const key = viewer.kind === 'user' ? `user:${viewer.userId}` : `ip:${viewer.address}`;
      const decision =
        (shared && (await connection.run(() => decide(shared.consume(key))))) ??
        (await decide(memory.consume(key)));
      if (!decision.allowed) metrics.rateLimited(viewer.kind);
      return decision;
    },
  };
}
