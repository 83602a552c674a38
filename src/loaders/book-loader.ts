import DataLoader from 'dataloader';
import type { BookCache, CachedBook } from '../cache/book-cache.js';
import type { CallOptions } from '../outbound/upstream-client.js';
import { inSpan } from '../observability/tracing.js';
import type { CatalogService } from '../upstreams/catalog/client.js';
import { MAX_IDS_PER_REQUEST, type Book } from '../upstreams/catalog/schema.js';
import type { ListGate } from './list-gate.js';

/** Books by id for one request: `null` for ids the catalog does not know. */
export type BookLoader = DataLoader<string, Book | null>;

/** Options of `createBookLoader`. */
export type BookLoaderOptions = {
  catalog: CatalogService;
  /** The request the books are for (deadline, cancellation, record). */
  call: CallOptions;
  /** Shared across requests; the catalog is asked only for ids it does not hold. `null`: off. */
  cache: BookCache | null;
  /** Holds the batch until every homepage list is in (list-gate.ts). Default: DataLoader's tick. */
  gate?: ListGate;
};

/**
 * One loader per request (DataLoader's own advice: its cache is a per-request
 * memo). All `book` fields resolved in the same tick share a batch: ids are
 * de-duplicated by the loader and split at the catalog's limit. With a gate,
 * the batch waits for every homepage list: one catalog call per page.
 */
export function createBookLoader({ catalog, call, cache, gate }: BookLoaderOptions): BookLoader {
  const { record } = call;
  return new DataLoader<string, Book | null>(
    async (ids) => {
      const found = new Map<string, Book>();
      const held = cache
        ? await cache.getMany(ids, record.clientHeaders)
        : new Map<string, CachedBook>();
      const now = Date.now();
      for (const [id, { book, expiresAt }] of held) {
        found.set(id, book);
        // An answer showing this book is good for as long as the cache keeps it.
        record.limitMaxAge(expiresAt - now);
      }
      const missing = ids.filter((id) => !found.has(id));
      // Fetched books are as fresh as the cache would keep them; with the cache
      // off, book details are not to be shared across requests at all.
      if (missing.length > 0) record.limitMaxAge(cache?.ttlMs ?? 0);
      if (cache) {
        // Server-Timing names the catalog once: a hit when no call was needed,
        // else the call itself.
        const allFound = missing.length === 0;
        if (found.size > 0)
          record.cacheLookup('catalog', 'hit', { count: found.size, timing: allFound });
        if (!allFound)
          record.cacheLookup('catalog', 'miss', { count: missing.length, timing: false });
      }
      if (missing.length > 0) {
        try {
          const books = await inSpan(
            record.tracer,
            'Book.batch',
            call.parent ?? record.spanParent,
            { attributes: { 'catalog.ids': missing.length } },
            (parent) => catalog.booksByIds(missing, { ...call, parent }),
          );
          for (const [id, book] of books) found.set(id, book);
          cache?.setMany(books, record.clientHeaders);
        } catch (error) {
          // DataLoader contract: one result per key, an Error for each key that failed.
          const failure = error instanceof Error ? error : new Error(String(error));
          return ids.map((id) => found.get(id) ?? failure);
        }
      }
      return ids.map((id) => found.get(id) ?? null);
    },
    {
      maxBatchSize: MAX_IDS_PER_REQUEST,
      ...(gate && { batchScheduleFn: gate.schedule }),
    },
  );
}
