import type { RecommendationResolvers } from '../__generated__/resolvers-types.js';
import { bookById } from './book-field.js';

export const Recommendation: RecommendationResolvers = { book: bookById };
