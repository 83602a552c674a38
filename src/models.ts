// The codegen mappers: what each GraphQL type's resolvers receive as their
// parent. Kept in a file of their own, as graphql-yoga's examples keep them, so
// that the generated resolver types depend on models and never on resolvers
// (which depend on the generated types). Upstream models are the zod-inferred
// payloads; a resolver exists only where a field differs from its model.

export type { Book, Money } from './upstreams/catalog/schema.js';
export type { Promotion } from './upstreams/promo/schema.js';
export type { RecommendationItem } from './upstreams/recommendations/schema.js';

/** Homepage carries nothing itself; see Query.homepage. */
export type HomepageModel = Record<string, never>;
