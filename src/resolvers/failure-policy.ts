import { responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context.js';
import type { CallOptions } from '../http/upstream-client.js';
import { inSpan } from '../observability/tracing.js';
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

/** Runs a homepage field's work in its own span, under the operation's. */
function traced<T>(context: GatewayContext, field: string, fn: (call: CallOptions) => Promise<T>) {
  const { tracer, context: parent } = context.trace;
  return inSpan(tracer, field, parent, {}, (spanContext) =>
    fn({ ...context.call, trace: { tracer, context: spanContext } }),
  );
}

/** Promotions, per the policy above. */
export function promoWithPolicy(context: GatewayContext, info: GraphQLResolveInfo) {
  return context.lists.track(
    traced(context, 'Homepage.promo', (call) => promo(context, call, info)),
    info,
  );
}

/** Recommendations for the viewer, per the policy above. */
export function recommendationsWithPolicy(
  context: GatewayContext,
  info: GraphQLResolveInfo,
  limit: number,
) {
  return context.lists.track(
    traced(context, 'Homepage.recommendations', (call) =>
      recommendations(context, call, info, limit),
    ),
    info,
  );
}

async function promo(
  { upstreams, fallbacks, notes, timings, observer }: GatewayContext,
  call: CallOptions,
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

async function recommendations(
  { upstreams, fallbacks, viewer, notes }: GatewayContext,
  call: CallOptions,
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
