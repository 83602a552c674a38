import { z } from 'zod';
import type { SharedStateMetrics } from '../observability/metrics.js';
import type { RedisConnection } from '../redis/connection.js';
import { KEYS } from '../redis/keys.js';
import { parseStored } from '../redis/parse-stored.js';
import type { PageStore, StoredPage } from './page-store.js';

/** Options of `createSharedPageStore`. */
export type SharedPageStoreOptions = {
  /** This process's level, asked first (createMemoryPageStore). */
  memory: PageStore;
  connection: RedisConnection;
  metrics: SharedStateMetrics;
  now?: () => number;
};

const base64 = z.string().transform((text) => Buffer.from(text, 'base64'));

/** A page as Redis holds it: bodies in base64, every timestamp absolute. */
const Stored = z.object({
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: base64,
  etag: z.string(),
  storedAt: z.number(),
  freshUntil: z.number(),
  staleUntil: z.number(),
  replay: z.object({
    method: z.string(),
    url: z.string(),
    headers: z.record(z.string(), z.string()),
    body: base64.nullable(),
  }),
});

/**
 * The anonymous page cache shared by replicas: this process's memory first,
 * then Redis. A page carries its own timestamps, so any replica serves it as
 * fresh or stale exactly as the one that stored it would, and never past the
 * freshness of the data in it. Redis down, slow or holding garbage is a miss
 * (connection.ts never throws); writes are never waited for.
 */
export function createSharedPageStore({
  memory,
  connection,
  metrics,
  now = Date.now,
}: SharedPageStoreOptions): PageStore {
  /** As in the memory store: a page read before the last purge is not shared either. */
  let clearedAt = -Infinity;
  return {
    async get(key) {
      const local = await memory.get(key);
      if (local) {
        metrics.cacheLevelHit('page', 'memory');
        return local;
      }
      const raw = await connection.run((redis) => redis.get(KEYS.page(key)));
      const page = parseStored(raw, Stored, () => metrics.invalidValue('page'));
      if (page === undefined || page.staleUntil <= now()) return undefined;
      metrics.cacheLevelHit('page', 'redis');
      await memory.set(key, page);
      return page;
    },
    async set(key, page) {
      await memory.set(key, page);
      const ttl = Math.floor(page.staleUntil - now());
      if (ttl <= 0 || page.storedAt < clearedAt) return;
      connection.write((redis) => redis.set(KEYS.page(key), serialize(page), 'PX', ttl));
    },
    clear() {
      memory.clear?.();
      clearedAt = now();
    },
    get bytes() {
      return memory.bytes;
    },
  };
}

// Private helpers.

function serialize(page: StoredPage): string {
  return JSON.stringify({
    ...page,
    body: page.body.toString('base64'),
    replay: { ...page.replay, body: page.replay.body?.toString('base64') ?? null },
  });
}
