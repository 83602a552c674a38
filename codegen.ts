import type { CodegenConfig } from '@graphql-codegen/cli';

// Resolver types come from schema.graphql. Upstream models (zod-inferred) are the
// mappers, so a resolver exists only where a GraphQL field differs from its model.
const config: CodegenConfig = {
  schema: './schema.graphql',
  generates: {
    './src/__generated__/resolvers-types.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        useTypeImports: true,
        contextType: '../context.js#GatewayContext',
        mappers: {
          Homepage: '../resolvers/homepage.js#HomepageModel',
          PromoBanner: '../upstreams/promo/schema.js#Promotion',
          Recommendation: '../upstreams/recommendations/schema.js#RecommendationItem',
          Book: '../upstreams/catalog/schema.js#Book',
          Money: '../upstreams/catalog/schema.js#Money',
        },
        scalars: { DateTime: { input: 'Date', output: 'Date | string' } },
        mapperTypeSuffix: 'Model',
        enumsAsTypes: true,
        avoidOptionals: false,
      },
    },
  },
};

export default config;
