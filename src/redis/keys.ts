// Key layout in Redis, in one place. Every key is `${REDIS_KEY_PREFIX}${KEY_VERSION}:…`
// (the prefix is added by the client, see connection.ts). The version names the
// shape of what is stored: a release that changes a stored shape bumps it, so it
// never reads values written by the previous release during a rolling update
// (the old keys simply expire).

/** Format version of every stored value; bump it when a stored shape changes. */
export const KEY_VERSION = 'v1';

export const KEYS = {
  /** The promo SWR entry: promotions with their timestamps (cache/redis-swr-level.ts). */
  promo: `${KEY_VERSION}:promo`,
  /** Held by the one replica refreshing promo (SET NX PX). */
  promoLock: `${KEY_VERSION}:lock:promo`,
  /** One book's details with their expiry (cache/book-cache.ts). */
  book: (id: string) => `${KEY_VERSION}:book:${id}`,
  /** An anonymous page, by its page-cache key (inbound/shared-page-store.ts). */
  page: (key: string) => `${KEY_VERSION}:page:${key}`,
  /** A document registered through automatic persisted queries, by id (persisted/shared-persisted-query-store.ts). */
  persistedQuery: (id: string) => `${KEY_VERSION}:apq:${id}`,
  /**
   * A viewer's GCRA theoretical arrival time is `${this}:${viewer}` (rate-limit/redis-gcra.ts).
   * Not `rate`: rate-limiter-flexible's counters lived there, and a rolling update
   * must not read a count as a time.
   */
  rateLimit: `${KEY_VERSION}:gcra`,
} as const;
