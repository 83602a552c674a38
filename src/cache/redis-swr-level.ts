import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { SharedStateMetrics } from '../observability/metrics.js';
import type { CacheName } from '../observability/request-record.js';
import type { RedisConnection } from '../redis/connection.js';
import { parseStored } from '../redis/parse-stored.js';
import type { RefreshClaim, SwrEntry, SwrSharedLevel } from './swr-cache.js';

/** Options of `createRedisSwrLevel`. */
export type RedisSwrLevelOptions<T> = {
  connection: RedisConnection;
  /** Key of the entry and of the refresh lock (redis/keys.ts). */
  key: string;
  lockKey: string;
  /** What a stored value must look like; anything else is a miss. */
  schema: z.ZodType<T>;
  /** The longest a refresh may take (the load's own deadline): the lock's lifetime. */
  lockTtlMs: number;
  cache: CacheName;
  metrics: SharedStateMetrics;
};

/** How often a replica waiting for another's refresh looks for its result. */
const POLL_MS = 25;

// Deletes the lock only if this replica still holds it: after its TTL another
// replica may hold it, and must keep it.
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/**
 * The promo SWR cache's second level in Redis: the entry as JSON with its
 * timestamps, kept until stale-if-error ends; refreshes claimed with
 * `SET NX PX`. No fencing: the lock only spares the upstream duplicate loads,
 * and a second load after the TTL is harmless.
 */
export function createRedisSwrLevel<T>({
  connection,
  key,
  lockKey,
  schema,
  lockTtlMs,
  cache,
  metrics,
}: RedisSwrLevelOptions<T>): SwrSharedLevel<T> {
  const Entry = z.object({
    value: schema,
    storedAt: z.number(),
    freshUntil: z.number(),
    revalidateUntil: z.number(),
    staleIfErrorUntil: z.number(),
  }) as z.ZodType<SwrEntry<T>>;
  const decode = (raw: string | null | undefined) =>
    parseStored(raw, Entry, () => metrics.invalidValue(cache));

  return {
    localTtlMs: connection.localTtlMs,
    async read() {
      return decode(await connection.run((redis) => redis.get(key)));
    },
    write(entry) {
      const ttlMs = Math.ceil(entry.staleIfErrorUntil - Date.now());
      if (ttlMs <= 0) return;
      connection.write((redis) => redis.set(key, JSON.stringify(entry), 'PX', ttlMs));
    },
    async claimRefresh(): Promise<RefreshClaim> {
      // The read just before failed: do not spend a second timeout on the lock.
      if (connection.tracker.state !== 'up') return { kind: 'unavailable' };
      const token = randomUUID();
      const claimed = await connection.run((redis) =>
        redis.set(lockKey, token, 'PX', lockTtlMs, 'NX'),
      );
      if (claimed === undefined) return { kind: 'unavailable' };
      if (claimed !== 'OK') return { kind: 'theirs' };
      return {
        kind: 'mine',
        release: () => connection.write((redis) => redis.eval(RELEASE, 1, lockKey, token)),
      };
    },
    async awaitRefresh(storedAfter) {
      const until = Date.now() + lockTtlMs;
      while (Date.now() < until) {
        await sleep(POLL_MS);
        // One round trip for both: the result, and whether anyone is still loading it.
        const both = await connection.run((redis) => redis.mget(key, lockKey));
        if (both === undefined) {
          if (connection.usable) continue; // one slow answer; the breaker decides when to stop
          return undefined;
        }
        const found = decode(both[0]);
        if (found && found.storedAt > storedAfter) return found;
        if (both[1] === null) return undefined; // the holder gave up without storing
      }
      return undefined;
    },
  };
}
