import type { HomepageResolvers } from '../__generated__/resolvers-types.js';
import { badUserInput } from '../errors.js';
import { promoWithPolicy, recommendationsWithPolicy } from './failure-policy.js';

/** Homepage carries nothing itself; see Query.homepage. */
export type HomepageModel = Record<string, never>;

export const RECOMMENDATIONS_LIMIT = { min: 1, max: 50 } as const;

export const Homepage: HomepageResolvers = {
  promo: (_parent, _args, context, info) => promoWithPolicy(context, info),

  recommendations: (_parent, { limit }, context, info) => {
    const { min, max } = RECOMMENDATIONS_LIMIT;
    if (limit == null || limit < min || limit > max) {
      throw badUserInput(
        `recommendations(limit:) must be between ${min} and ${max}; got ${limit}.`,
      );
    }
    return recommendationsWithPolicy(context, info, limit);
  },
};
