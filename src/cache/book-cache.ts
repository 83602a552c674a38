import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { SharedStateMetrics } from '../observability/metrics.js';
import type { RedisConnection } from '../redis/connection.js';
import { forwardVariant } from '../outbound/forward-headers.js';
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
  /**
   * The books held for `ids`: this process first, then one MGET for the rest.
   * `clientHeaders`: the request's, when the catalog reads forwarded headers.
   */
  getMany(ids: readonly string[], clientHeaders?: Headers): Promise<Map<string, CachedBook>>;
  /** Keeps books just fetched; the Redis write is never waited for. */
  setMany(books: ReadonlyMap<string, Book>, clientHeaders?: Headers): void;
  /** Forgets this process's copies: of `id` only, or of every book (an operator's purge). */
  purge(id?: string): void;
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
  /** Client headers the catalog receives (CATALOG_FORWARD_HEADERS): part of every key. Default none. */
  forwardHeaders?: readonly string[];
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
  forwardHeaders = [],
}: BookCacheOptions): BookCache {
  // Memory keys are `${variant}\n${id}`: `\n${id}` when nothing is forwarded.
  const memory = new LRUCache<string, CachedBook>({ max: maxEntries, ttl: ttlMs });
  const variantOf = (headers: Headers | undefined) =>
    headers === undefined ? '' : forwardVariant(forwardHeaders, headers);
  const keepLocally = (key: string, book: Book, expiresAt: number) => {
    const ttl = Math.min(shared ? shared.localTtlMs : ttlMs, expiresAt - Date.now());
    if (ttl > 0) memory.set(key, { book, expiresAt }, { ttl }); // a TTL of 0 would mean "forever"
  };

  return {
    ttlMs,
    purge(id) {
      if (id === undefined) return memory.clear();
      for (const key of [...memory.keys()]) if (key.endsWith(`\n${id}`)) memory.delete(key);
    },
    async getMany(ids, clientHeaders) {
      const variant = variantOf(clientHeaders);
      const found = new Map<string, CachedBook>();
      const missing: string[] = [];
      for (const id of ids) {
        const held = memory.get(`${variant}\n${id}`);
        if (held) found.set(id, held);
        else missing.push(id);
      }
      if (found.size > 0) metrics.cacheLevelHit('catalog', 'memory', found.size);
      const asked = missing.filter((id) => id.length <= MAX_SHARED_ID_LENGTH);
      if (!shared || asked.length === 0) return found;
      const raw = await shared.run((redis) =>
        readMany(
          redis,
          asked.map((id) => KEYS.book(id, variant)),
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
        keepLocally(`${variant}\n${id}`, stored.book, stored.expiresAt);
        fromRedis += 1;
      });
      if (fromRedis > 0) metrics.cacheLevelHit('catalog', 'redis', fromRedis);
      return found;
    },
    setMany(books, clientHeaders) {
      if (books.size === 0) return;
      const variant = variantOf(clientHeaders);
      const expiresAt = Date.now() + ttlMs;
      for (const [id, book] of books) keepLocally(`${variant}\n${id}`, book, expiresAt);
      if (!shared) return;
      const entries = [...books]
        .filter(([id]) => id.length <= MAX_SHARED_ID_LENGTH)
        .map(
          ([id, book]) => [KEYS.book(id, variant), JSON.stringify({ expiresAt, book })] as const,
        );
      shared.write((redis) => writeMany(redis, entries, ttlMs));
    },
  };
}
