import type { HomepageResolvers } from '../__generated__/resolvers-types.js';
import { badUserInput } from '../errors.js';

/** Homepage carries nothing itself; see Query.homepage. */
export type HomepageModel = Record<string, never>;

export const RECOMMENDATIONS_LIMIT = { min: 1, max: 50 } as const;

export const Homepage: HomepageResolvers = {
  promo: (_parent, _args, { upstreams, call }) => upstreams.promo.activePromotions(call),

  recommendations: (_parent, { limit }, { upstreams, viewer, call }) => {
    const { min, max } = RECOMMENDATIONS_LIMIT;
    if (limit == null || limit < min || limit > max) {
      throw badUserInput(
        `recommendations(limit:) must be between ${min} and ${max}; got ${limit}.`,
      );
    }
    return viewer.kind === 'user'
      ? upstreams.recommendations.forUser(viewer.userId, limit, call)
      : upstreams.recommendations.popular(limit, call);
  },
};
