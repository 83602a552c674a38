import { LRUCache } from 'lru-cache';
import type { SharedStateMetrics } from '../observability/metrics.js';
import type { RedisConnection } from '../redis/connection.js';
import { KEYS } from '../redis/keys.js';
import { gcra, gcraLimit } from './gcra.js';
import { redisGcra } from './redis-gcra.js';

/** Whose pages are counted: a verified user, else a client address. */
export type ViewerKey = { kind: 'user'; userId: string } | { kind: 'anonymous'; address: string };

export type LimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Counts one page for a viewer and says whether it may be served. */
export type ViewerLimiter = { check(viewer: ViewerKey): Promise<LimitDecision> };

/** Options of `createViewerLimiter`. */
export type ViewerLimiterOptions = {
  /** Pages per minute per viewer (RATE_LIMIT_PER_MINUTE); 0: no limiter at all. */
  perMinute: number;
  /** Pages a viewer may take at once (RATE_LIMIT_BURST), 1 to `perMinute`. Default `perMinute`. */
  burst?: number;
  /** Counts shared by every replica; `null`: this process counts alone. */
  connection: RedisConnection | null;
  metrics: SharedStateMetrics;
  /**
   * Clock in epoch ms, for tests. Default: `Date.now` in memory, and Redis's own
   * clock in Redis (one clock for every replica).
   */
  now?: () => number;
};

const ALLOWED: LimitDecision = { allowed: true };

/**
 * Viewers counted in memory at most: a forgotten viewer only gets a fresh burst
 * (about 100 bytes each, so a few MB at worst).
 */
const MEMORY_VIEWERS = 100_000;

/**
 * Pages per minute per viewer, with GCRA (gcra.ts): a steady rate with a stated
 * burst and no window edges, so a viewer never gets much more than the limit in
 * a few seconds (a fixed one-minute window let 71 pages of a limit of 40 through
 * in 3 s, straddling an edge). With Redis the viewer's one number lives there,
 * read and written in one atomic Lua round trip shared by every replica; when
 * Redis is down, slow or behind its open breaker, each replica counts in its own
 * memory with the same arithmetic: the limit fails open to "per replica" rather
 * than refusing pages or letting everything through.
 *
 * Redis failures go through the one connection policy (timeout, breaker, state
 * log, metrics) like every other Redis command.
 */
export function createViewerLimiter({
  perMinute,
  burst = perMinute,
  connection,
  metrics,
  now,
}: ViewerLimiterOptions): ViewerLimiter | null {
  if (perMinute <= 0) return null;
  const limit = gcraLimit(perMinute, burst);
  const memory = new LRUCache<string, number>({ max: MEMORY_VIEWERS });
  const memoryNow = now ?? Date.now;

  function inMemory(key: string): number {
    const decision = gcra(memory.get(key), memoryNow(), limit);
    if (!decision.allowed) return decision.retryAfterMs;
    memory.set(key, decision.tatMs);
    return 0;
  }

  return {
    async check(viewer) {
      const key = viewer.kind === 'user' ? `user:${viewer.userId}` : `ip:${viewer.address}`;
      const waitMs =
        (connection &&
          (await connection.run((client) =>
            redisGcra(client, `${KEYS.rateLimit}:${key}`, limit, now?.()),
          ))) ??
        inMemory(key);
      if (waitMs <= 0) return ALLOWED;
      metrics.rateLimited(viewer.kind);
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    },
  };
}
