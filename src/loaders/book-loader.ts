import DataLoader from 'dataloader';
import type { Book } from '../upstreams/catalog/schema.js';
import { MAX_IDS_PER_REQUEST } from '../upstreams/catalog/schema.js';
import type { CallOptions } from '../http/upstream-client.js';
import type { CatalogService } from '../upstreams/catalog/client.js';

/** Books by id for one request: `null` for ids the catalog does not know. */
export type BookLoader = DataLoader<string, Book | null>;

/**
 * One loader per request (DataLoader's own advice: its cache is a per-request
 * memo, not a shared cache). All `book` fields resolved in the same tick share a
 * batch: ids are de-duplicated by the loader and split at the catalog's limit.
 */
export function createBookLoader(catalog: CatalogService, call?: CallOptions): BookLoader {
  return new DataLoader<string, Book | null>(
    async (ids) => {
      try {
        const books = await catalog.booksByIds(ids, call);
        return ids.map((id) => books.get(id) ?? null);
      } catch (error) {
        // DataLoader contract: one result per key, an Error for each key that failed.
        const failure = error instanceof Error ? error : new Error(String(error));
        return ids.map(() => failure);
      }
    },
    { maxBatchSize: MAX_IDS_PER_REQUEST },
  );
}
