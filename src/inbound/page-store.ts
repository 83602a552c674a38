import { LRUCache } from 'lru-cache';

/** How to send a stored page's request again (a background refresh). */
export type Replay = {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer | null;
};

/** One stored answer, with what HTTP caching needs to describe it. */
export type StoredPage = {
  status: number;
  /** The answer's own headers (content type, CORS), none that change per response. */
  headers: Record<string, string>;
  body: Buffer;
  /** Strong validator of `body`. */
  etag: string;
  /** Epoch ms the data in it was read (the request's start): its age counts from here. */
  storedAt: number;
  /** Epoch ms until which it is served as is. */
  freshUntil: number;
  /** Epoch ms until which it is served stale while one refresh runs. */
  staleUntil: number;
  replay: Replay;
};

/**
 * Where pages are kept. Small on purpose, so a shared level (Redis) can sit
 * behind or beside the in-memory one: both methods may answer synchronously
 * (memory) or with a promise (a network store).
 */
export type PageStore = {
  get(key: string): StoredPage | undefined | Promise<StoredPage | undefined>;
  set(key: string, page: StoredPage): void | Promise<void>;
  /**
   * Forgets this process's pages (an operator's purge), and refuses pages
   * whose data was read before it (a run under way at the purge). A shared
   * store's copies are deleted by the purge itself (cache/purge-caches.ts).
   * Optional for stores that hold nothing in this process.
   */
  clear?(): void;
  /** Bytes held, for the metrics. */
  readonly bytes: number;
};

/** Options of `createMemoryPageStore`. */
export type MemoryPageStoreOptions = {
  /** Bound on everything a page keeps (see `pageBytes`); least recently used pages go first. */
  maxBytes: number;
  now?: () => number;
};

/** A page's bookkeeping beyond its strings and buffers: objects, timestamps, map entry, timer. */
const OVERHEAD_BYTES = 512;

/** Pages in this process's memory (lru-cache, bounded by size; each kept until its stale window ends). */
export function createMemoryPageStore({
  maxBytes,
  now = Date.now,
}: MemoryPageStoreOptions): PageStore {
  const pages = new LRUCache<string, StoredPage>({
    maxSize: maxBytes,
    // Expired pages leave at once, so memory and the bytes metric stay honest
    // (one timer per stored page: stores are rare, once per page lifetime).
    ttlAutopurge: true,
    sizeCalculation: pageBytes,
  });
  /** When the last purge was: a page read before it holds what was purged. */
  let clearedAt = -Infinity;
  return {
    get: (key) => pages.get(key),
    set(key, page) {
      const ttl = page.staleUntil - now();
      if (ttl > 0 && page.storedAt >= clearedAt) pages.set(key, page, { ttl });
    },
    clear() {
      pages.clear();
      clearedAt = now();
    },
    get bytes() {
      return pages.calculatedSize;
    },
  };
}

/**
 * Every byte a stored page keeps: its key, body, ETag, the answer's headers
 * (CORS echoes the client's Origin), and what a refresh resends (URL, key
 * headers, body). Leaving the headers and URL out let a client with 4 KB headers
 * grow the heap 25 times past the bound while the metric read it as full.
 * Strings count two bytes a character: what V8 holds for any that is not Latin-1,
 * so the bound is never under-counted.
 */
function pageBytes(page: StoredPage, key: string): number {
  let chars = key.length + page.etag.length + page.replay.url.length + page.replay.method.length;
  for (const name in page.headers) chars += name.length + (page.headers[name] as string).length;
  for (const name in page.replay.headers) {
    chars += name.length + (page.replay.headers[name] as string).length;
  }
  return chars * 2 + page.body.byteLength + (page.replay.body?.byteLength ?? 0) + OVERHEAD_BYTES;
}
