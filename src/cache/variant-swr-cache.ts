import { LRUCache } from 'lru-cache';
import type { CallOptions } from '../outbound/upstream-client.js';
import type { SwrCache } from './swr-cache.js';

/** Options of `createVariantSwrCache`. */
export type VariantSwrCacheOptions<T> = {
  /**
   * Which variant a call asks for: `''` when the upstream answers everyone alike,
   * else what its forwarded headers select (outbound/forward-headers.ts).
   */
  variantOf: (call: CallOptions) => string;
  /** Builds the cache of one variant (its own shared key in Redis). */
  create: (variant: string) => SwrCache<T>;
  /**
   * Variants kept in this process, least recently used dropped first (their
   * copy in Redis stays). Forwarded values come from clients: without a bound,
   * odd `Accept-Language` values would grow memory without end. Default 100.
   */
  maxVariants?: number;
};

/**
 * One SWR cache per variant of an upstream answer: a promo service that reads
 * `Accept-Language` answers German and English banners, and each is cached,
 * refreshed and shared by replicas on its own, so that no visitor ever gets the
 * other language. With nothing forwarded there is one variant, `''`.
 */
export function createVariantSwrCache<T>({
  variantOf,
  create,
  maxVariants = 100,
}: VariantSwrCacheOptions<T>): SwrCache<T> {
  const variants = new LRUCache<string, SwrCache<T>>({ max: maxVariants });
  const cacheOf = (variant: string) => {
    let cache = variants.get(variant);
    if (cache === undefined) {
      cache = create(variant);
      variants.set(variant, cache);
    }
    return cache;
  };
  return {
    get: (call) => cacheOf(variantOf(call)).get(call),
    purge() {
      // Each one purged (not only dropped): a load under way in it is not kept.
      for (const cache of variants.values()) cache.purge();
      variants.clear();
    },
  };
}
