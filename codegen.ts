import type { CodegenConfig } from '@graphql-codegen/cli';

// Resolver types come from schema.graphql. The mappers (src/models.ts: the
// zod-inferred upstream models) let a resolver exist only where a GraphQL field
// differs from its model.
const config: CodegenConfig = {
  schema: './schema.graphql',
  generates: {
    './src/__generated__/resolvers-types.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        useTypeImports: true,
        contextType: '../context.js#GatewayContext',
        mappers: {
          Homepage: '../models.js#HomepageModel',
          PromoBanner: '../models.js#Promotion',
          Recommendation: '../models.js#RecommendationItem',
          Book: '../models.js#Book',
          Money: '../models.js#Money',
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
