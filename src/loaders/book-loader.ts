import DataLoader from 'dataloader';
import type { LRUCache } from 'lru-cache';
import type { CallOptions } from '../http/upstream-client.js';
import { inSpan } from '../observability/tracing.js';
import {
  silentObserver,
  type TimingEntry,
  type UpstreamObserver,
} from '../observability/observer.js';
import type { Book } from '../upstreams/catalog/schema.js';
import { MAX_IDS_PER_REQUEST } from '../upstreams/catalog/schema.js';
import type { CatalogService } from '../upstreams/catalog/client.js';
import type { ListGate } from './list-gate.js';

/** Books by id for one request: `null` for ids the catalog does not know. */
export type BookLoader = DataLoader<string, Book | null>;

/** Book details shared across requests: bounded in size and age (see app.ts). */
export type BookCache = LRUCache<string, Book>;

/**
 * One loader per request (DataLoader's own advice: its cache is a per-request
 * memo). All `book` fields resolved in the same tick share a batch: ids are
 * de-duplicated by the loader and split at the catalog's limit. With a shared
 * `cache`, the catalog is asked only for the ids it does not hold. With a
 * `gate`, the batch waits for every homepage list (list-gate.ts): one catalog
 * call per page.
 */
export function createBookLoader(
  catalog: CatalogService,
  call: CallOptions,
  cache: BookCache | null,
  observer: UpstreamObserver = silentObserver,
  timings?: TimingEntry[],
  gate?: ListGate,
): BookLoader {
  return new DataLoader<string, Book | null>(
    async (ids) => {
      const found = new Map<string, Book>();
      const missing: string[] = [];
      for (const id of ids) {
        const book = cache?.get(id);
        if (book) found.set(id, book);
        else missing.push(id);
      }
      if (cache) {
        if (found.size > 0) observer.onCache('catalog', 'hit', found.size);
        if (missing.length > 0) observer.onCache('catalog', 'miss', missing.length);
      }
      if (missing.length === 0) {
        timings?.push({ name: 'catalog', durationMs: 0, description: 'hit' });
      } else {
        try {
          const parent = call.trace;
          const books = parent
            ? await inSpan(
                parent.tracer,
                'Book.batch',
                parent.context,
                { attributes: { 'catalog.ids': missing.length } },
                (context) =>
                  catalog.booksByIds(missing, { ...call, trace: { ...parent, context } }),
              )
            : await catalog.booksByIds(missing, call);
          for (const [id, book] of books) {
            found.set(id, book);
            cache?.set(id, book);
          }
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
