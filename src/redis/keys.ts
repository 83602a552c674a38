// Key layout in Redis, in one place. Every key is `${REDIS_KEY_PREFIX}${KEY_VERSION}:…`
// (the prefix is added by the client, see connection.ts). The version names the
// shape of what is stored: a release that changes a stored shape bumps it, so it
// never reads values written by the previous release during a rolling update
// (the old keys simply expire).
//
// Redis Cluster: a command on several keys needs them in one hash slot, so keys
// read or written together carry the same hash tag (the part in `{…}`, the only
// part Cluster hashes): the promo entry and its lock are read by one MGET. A
// variant of them (e.g. per forwarded header) goes *inside* the braces, for the
// entry and its lock alike: `v1:{promo:<variant>}` and `v1:lock:{promo:<variant>}`.
// Unrelated keys (books, pages) have no tag, so they spread over the cluster;
// reads of many of them go through redis/read-many.ts.

/** Format version of every stored value; bump it when a stored shape changes. */
export const KEY_VERSION = 'v1';

export const KEYS = {
  /** The promo SWR entry: promotions with their timestamps (cache/redis-swr-level.ts). */
  promo: `${KEY_VERSION}:{promo}`,
  /** Held by the one replica refreshing promo (SET NX PX). */
  promoLock: `${KEY_VERSION}:lock:{promo}`,
  /**
   * The promo entry of one variant of forwarded headers (outbound/forward-headers.ts);
   * `''` (nothing forwarded) is `promo` itself. The hash tag keeps every variant
   * and its lock in one Cluster slot (awaitRefresh reads both in one MGET).
   */
  promoOf: (variant: string): string =>
    variant === '' ? KEYS.promo : `${KEY_VERSION}:{promo}:${variant}`,
  promoLockOf: (variant: string): string =>
    variant === '' ? KEYS.promoLock : `${KEY_VERSION}:lock:{promo}:${variant}`,
  /** One book's details with their expiry (cache/book-cache.ts), per variant of forwarded headers. */
  book: (id: string, variant = '') =>
    variant === '' ? `${KEY_VERSION}:book:${id}` : `${KEY_VERSION}:{book}:${variant}:${id}`,
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
  /**
   * Purge generations, a hash of counters (`promo`, `books`, `pages`) bumped by
   * every purge (cache/purge-caches.ts): a replica that was disconnected compares
   * them on reconnect, having missed the pub/sub message.
   */
  purge: `${KEY_VERSION}:purge`,
  /** Patterns of what each purge deletes (SCAN MATCH, after the prefix). */
  purgePatterns: {
    promo: [`${KEY_VERSION}:{promo}`, `${KEY_VERSION}:{promo}:*`],
    books: [`${KEY_VERSION}:book:*`, `${KEY_VERSION}:{book}:*`],
    pages: [`${KEY_VERSION}:page:*`],
  },
  /** The pub/sub channel of purges (not a key: ioredis does not prefix it, redis/purge-channel.ts does). */
  purgeChannel: `${KEY_VERSION}:purge`,
} as const;
