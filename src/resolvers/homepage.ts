import type { HomepageResolvers } from '../__generated__/resolvers-types.js';
import { badUserInput } from '../errors/vocabulary.js';
import {
  promoWithFallbacks,
  recommendationsWithFallbacks,
} from '../fallbacks/homepage-fallbacks.js';
import { listField } from '../fallbacks/list-field.js';

export const RECOMMENDATIONS_LIMIT = { min: 1, max: 50 } as const;

export const Homepage: HomepageResolvers = {
  promo: (_parent, _args, context, info) =>
    listField(context, info, (call, path) => promoWithFallbacks(context, call, path)),

  recommendations: (_parent, { limit }, context, info) => {
    const { min, max } = RECOMMENDATIONS_LIMIT;
    if (limit == null || limit < min || limit > max) {
      throw badUserInput(
        `recommendations(limit:) must be between ${min} and ${max}; got ${limit}.`,
      );
    }
    return listField(context, info, (call, path) =>
      recommendationsWithFallbacks(context, call, path, limit),
    );
  },
};
