import type { QueryResolvers } from '../__generated__/resolvers-types.js';

export const Query: QueryResolvers = {
  // Homepage has no data of its own: each of its fields fetches independently,
  // so graphql-js runs them concurrently and one failing leaves the others alone.
  homepage: () => ({}),
};
