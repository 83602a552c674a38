import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { SharedStateMetrics } from '../observability/metrics.js';
import type { RedisConnection } from '../redis/connection.js';
import { KEYS } from '../redis/keys.js';
import { parseStored } from '../redis/parse-stored.js';
import { readMany, writeMany } from '../redis/read-many.js';
import { Book } from '../upstreams/catalog/schema.js';

/** A book held, and until when (epoch ms) it may be served. */
export type CachedBook = { book: Book; expiresAt: number };

/** Book details shared across requests (and replicas, with Redis). */
export type BookCache = {
  /** How long a book is served after the catalog sent it. */
  readonly ttlMs: number;
  /** The books held for `ids`: this process first, then one MGET for the rest. */
  getMany(ids: readonly string[]): Promise<Map<string, CachedBook>>;
  /** Keeps books just fetched; the Redis write is never waited for. */
  setMany(books: ReadonlyMap<string, Book>): void;
};

/** Options of `createBookCache`. */
export type BookCacheOptions = {
  /** How long a book is served after the catalog sent it (CATALOG_CACHE_TTL_MS). */
  ttlMs: number;
  /** Bound of this process's level (CATALOG_CACHE_MAX_ENTRIES). */
  maxEntries: number;
  /** Redis as a second level (it says how long this process keeps its own copy). Default: none. */
  shared?: RedisConnection | undefined;
  metrics: SharedStateMetrics;
};

/** A book in Redis carries its expiry, so no copy outlives the catalog's TTL. */
const Stored = z.object({ expiresAt: z.number(), book: Book });

/** Ids this long are kept in process only: no real id is, and keys stay small. */
const MAX_SHARED_ID_LENGTH = 200;

/**
 * Two levels: a bounded LRU in this process, then Redis. Without Redis this is
 * the LRU alone with the catalog TTL, as in a single process. With Redis, the
 * process level keeps a copy at most `localTtlMs` (and never past the book's
 * expiry), so a book fetched by one replica is served by all of them for the
 * same TTL. A Redis value that does not match the catalog schema is a miss.
 */
export function createBookCache({
  ttlMs,
  maxEntries,
  shared,
  metrics,
}: BookCacheOptions): BookCache {
  const memory = new LRUCache<string, CachedBook>({ max: maxEntries, ttl: ttlMs });
  const keepLocally = (id: string, book: Book, expiresAt: number) => {
    const ttl = Math.min(shared ? shared.localTtlMs : ttlMs, expiresAt - Date.now());
    if (ttl > 0) memory.set(id, { book, expiresAt }, { ttl }); // a TTL of 0 would mean "forever"
  };

  return {
    ttlMs,
    async getMany(ids) {
      const found = new Map<string, CachedBook>();
      const missing: string[] = [];
      for (const id of ids) {
        const held = memory.get(id);
        if (held) found.set(id, held);
        else missing.push(id);
      }
      if (found.size > 0) metrics.cacheLevelHit('catalog', 'memory', found.size);
      const asked = missing.filter((id) => id.length <= MAX_SHARED_ID_LENGTH);
      if (!shared || asked.length === 0) return found;
      const raw = await shared.run((redis) =>
        readMany(
          redis,
          asked.map((id) => KEYS.book(id)),
        ),
      );
      if (raw === undefined) return found;
      let fromRedis = 0;
      asked.forEach((id, index) => {
        const stored = parseStored(raw[index], Stored, () => metrics.invalidValue('catalog'));
        if (stored === undefined || stored.expiresAt <= Date.now()) return;
        // The id inside must be the id asked for: a value under the wrong key is garbage.
        if (stored.book.id !== id) return metrics.invalidValue('catalog');
        found.set(id, stored);
        keepLocally(id, stored.book, stored.expiresAt);
        fromRedis += 1;
      });
      if (fromRedis > 0) metrics.cacheLevelHit('catalog', 'redis', fromRedis);
      return found;
    },
    setMany(books) {
      if (books.size === 0) return;
      const expiresAt = Date.now() + ttlMs;
      for (const [id, book] of books) keepLocally(id, book, expiresAt);
      if (!shared) return;
      const entries = [...books]
        .filter(([id]) => id.length <= MAX_SHARED_ID_LENGTH)
        .map(([id, book]) => [KEYS.book(id), JSON.stringify({ expiresAt, book })] as const);
      shared.write((redis) => writeMany(redis, entries, ttlMs));
    },
  };
}
