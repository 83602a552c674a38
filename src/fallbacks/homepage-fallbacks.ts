import type { GatewayContext } from '../context.js';
import { UpstreamError } from '../errors/upstream-error.js';
import type { CallOptions } from '../outbound/upstream-client.js';
import type { Promotion } from '../upstreams/promo/schema.js';
import type { RecommendationItem } from '../upstreams/recommendations/schema.js';

// What each homepage field does when its upstream fails, in one place.
//
// | field                        | on upstream failure, in order                                   |
// | ---------------------------- | --------------------------------------------------------------- |
// | Homepage.promo               | last good value (stale-if-error) → house banners → null + error |
// | Homepage.recommendations     | signed in: popular picks → null + error; anonymous: null + error|
// | PromoBanner.book, Recommendation.book | null + error, one per book                             |
//
// A stale value or a fallback is written to the request's record, which reports
// it in the response's extensions (`stale`, `fallbacks`): the answer is useful,
// but clients and dashboards can still tell it from a healthy one.

/** Promotions: the shared cache, else house banners. */
export async function promoWithFallbacks(
  { caches, fallbacks, record }: GatewayContext,
  call: CallOptions,
  path: Array<string | number>,
): Promise<Promotion[]> {
  const started = performance.now();
  try {
    const { value, freshness } = await caches.promo.get(call);
    const result = freshness.state === 'stale' ? 'stale' : freshness.ageMs > 0 ? 'hit' : 'miss';
    record.cacheLookup('promo', result, { durationMs: performance.now() - started });
    record.limitMaxAge(freshness.state === 'fresh' ? freshness.freshForMs : 0);
    if (freshness.state === 'stale') {
      const ageSeconds = Math.round(freshness.ageMs / 1000);
      record.servedStale({ path, ageSeconds, reason: freshness.reason });
    }
    return value;
  } catch (error) {
    const houseBanners = fallbacks.houseBanners;
    if (!(error instanceof UpstreamError) || houseBanners === null) throw error;
    record.servedFallback({ path, fallback: 'house_banners', code: error.code, service: 'promo' });
    record.limitMaxAge(0);
    return houseBanners;
  }
}

/** Recommendations for the viewer: personal picks, else popular ones. */
export async function recommendationsWithFallbacks(
  { services, fallbacks, viewer, record, popularPicksTtlMs }: GatewayContext,
  call: CallOptions,
  path: Array<string | number>,
  limit: number,
): Promise<RecommendationItem[]> {
  const { recommendations } = services;
  // Popular picks are the same for everyone: an answer showing them may be
  // reused as long as they stay fresh (their Cache-Control, else our default).
  const popularPicks = async () => {
    const { items, maxAgeMs } = await recommendations.popular(limit, call);
    record.limitMaxAge(maxAgeMs ?? popularPicksTtlMs);
    return items;
  };
  if (viewer.kind === 'anonymous') return popularPicks();
  // Personal picks are never shared.
  record.limitMaxAge(0);
  try {
    return await recommendations.forUser(viewer.userId, limit, call);
  } catch (error) {
    if (!(error instanceof UpstreamError) || fallbacks.recommendations !== 'popular') throw error;
    // The popular endpoint may be healthy when the personal one is not; if it
    // fails too, the client hears about the original failure.
    const popular = await popularPicks().catch(() => {
      throw error;
    });
    record.servedFallback({
      path,
      fallback: 'popular',
      code: error.code,
      service: 'recommendations',
    });
    return popular;
  }
}
