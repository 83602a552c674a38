// Apollo Server 5 (its standalone server) with the gateway's schema, resolvers,
// upstream clients, caches and context factory: what the same code costs on
// Apollo instead of yoga. Errors are masked with the same function.
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import { typeDefs } from '../../src/app.js';
import type { GatewayContext } from '../../src/context.js';
import { toGraphQLError } from '../../src/errors/to-graphql-error.js';
import { resolvers } from '../../src/resolvers/index.js';
import { contextForNodeRequest, peerSetup } from './peer-context.js';

const { config, contextFor } = peerSetup();

const server = new ApolloServer<GatewayContext>({
  typeDefs,
  resolvers: resolvers as never, // Same map; Apollo's resolver types differ from codegen's.
  formatError: (formatted, error) => {
    const masked = toGraphQLError(unwrapResolverError(error), 'Unexpected error.');
    const extensions = masked instanceof GraphQLError ? masked.extensions : {};
    return { ...formatted, message: masked.message, extensions };
  },
  introspection: false,
});
await startStandaloneServer(server, {
  listen: { port: config.port, host: '127.0.0.1' },
  context: ({ req, res }) => contextForNodeRequest(contextFor, req, res, 'http://apollo.local'),
});
