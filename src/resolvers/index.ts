import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Homepage } from './homepage.js';
import { PromoBanner } from './promo-banner.js';
import { Query } from './query.js';
import { Recommendation } from './recommendation.js';

// Book and Money need no resolvers: their fields match the catalog model as is.
export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  Query,
  Homepage,
  PromoBanner,
  Recommendation,
};
