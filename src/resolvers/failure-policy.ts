import { responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context.js';
import { UpstreamError } from '../errors.js';
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
// A stale value or a fallback is reported in the response's extensions
// (`stale`, `fallbacks`): the answer is useful, but clients and dashboards can
// still tell it from a healthy one.

/** Promotions, per the policy above. */
export async function promoWithPolicy(
  { upstreams, fallbacks, call, notes, timings, observer }: GatewayContext,
  info: GraphQLResolveInfo,
): Promise<Promotion[]> {
  const path = responsePathAsArray(info.path);
  const started = performance.now();
  try {
    const { value, freshness } = await upstreams.promo.get(call);
    const result = freshness.state === 'stale' ? 'stale' : freshness.ageMs > 0 ? 'hit' : 'miss';
    observer.onCache('promo', result);
    timings.push({ name: 'promo', durationMs: performance.now() - started, description: result });
    if (freshness.state === 'stale') {
      const ageSeconds = Math.round(freshness.ageMs / 1000);
      notes.stale.push({ path, ageSeconds, reason: freshness.reason });
    }
    return value;
  } catch (error) {
    const houseBanners = fallbacks.houseBanners;
    if (!(error instanceof UpstreamError) || houseBanners === null) throw error;
    notes.fallbacks.push({ path, fallback: 'house_banners', code: error.code, service: 'promo' });
    return houseBanners;
  }
}

/** Recommendations for the viewer, per the policy above. */
export async function recommendationsWithPolicy(
  { upstreams, fallbacks, viewer, call, notes }: GatewayContext,
  info: GraphQLResolveInfo,
  limit: number,
): Promise<RecommendationItem[]> {
  if (viewer.kind === 'anonymous') return upstreams.recommendations.popular(limit, call);
  try {
    return await upstreams.recommendations.forUser(viewer.userId, limit, call);
  } catch (error) {
    if (!(error instanceof UpstreamError) || fallbacks.recommendations !== 'popular') throw error;
    // The popular endpoint may be healthy when the personal one is not; if it
    // fails too, the client hears about the original failure.
    const popular = await upstreams.recommendations.popular(limit, call).catch(() => {
      throw error;
    });
    notes.fallbacks.push({
      path: responsePathAsArray(info.path),
      fallback: 'popular',
      code: error.code,
      service: 'recommendations',
    });
    return popular;
  }
}
