import { LRUCache } from 'lru-cache';

/**
 * Where documents registered through automatic persisted queries live, by
 * canonical id (`sha256:<hex>`). In memory per process by default; a shared
 * store (Redis) lets one replica's registration serve every replica. Both
 * methods may be slow (a network hop): callers await them.
 */
export type PersistedQueryStore = {
  get(id: string): Promise<string | undefined>;
  set(id: string, document: string): Promise<void>;
};

/** Options of `createMemoryPersistedQueryStore`. */
export type MemoryPersistedQueryStoreOptions = {
  /** Bound on the documents' total size (UTF-8 bytes, at least 1); least recently used go first. */
  maxBytes: number;
};

/** An in-process LRU bounded by bytes, not entries: documents range from 100 B to tens of KB. */
export function createMemoryPersistedQueryStore({
  maxBytes,
}: MemoryPersistedQueryStoreOptions): PersistedQueryStore {
  const documents = new LRUCache<string, string>({
    maxSize: maxBytes,
    sizeCalculation: (document, id) => Buffer.byteLength(document) + id.length,
  });
  return {
    get: (id) => Promise.resolve(documents.get(id)),
    set: (id, document) => {
      documents.set(id, document); // One larger than the whole bound is not stored.
      return Promise.resolve();
    },
  };
}
