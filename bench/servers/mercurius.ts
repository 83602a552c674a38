// Mercurius (on Fastify) with graphql-jit and the gateway's schema, resolvers,
// upstream clients, caches and context factory: the fastest Node GraphQL server
// as a peer, running the same code as the gateway. Errors are masked with the
// same function. A dev dependency of the benchmark only.
import Fastify from 'fastify';
import { GraphQLError } from 'graphql';
import { createSchema } from 'graphql-yoga';
import mercurius from 'mercurius';
import { typeDefs } from '../../src/app.js';
import type { GatewayContext } from '../../src/context.js';
import { toGraphQLError } from '../../src/errors/to-graphql-error.js';
import { resolvers } from '../../src/resolvers/index.js';
import { contextForNodeRequest, peerSetup } from './peer-context.js';

const { config, contextFor } = peerSetup();

const app = Fastify({ logger: false, keepAliveTimeout: config.server.keepAliveTimeoutMs });
await app.register(mercurius, {
  // The same executable schema yoga builds (graphql-tools under the hood).
  schema: createSchema<GatewayContext>({ typeDefs, resolvers }),
  path: '/graphql',
  graphiql: false,
  // Compile a query with graphql-jit from its first execution on.
  jit: 1,
  // Fastify's request and reply wrap Node's: the same bridge as Apollo's.
  context: (request, reply) =>
    contextForNodeRequest(contextFor, request.raw, reply.raw, 'http://mercurius.local'),
  errorFormatter: (execution, context) => {
    const formatted = mercurius.defaultErrorFormatter(execution, context);
    const errors = execution.errors.map((error) => {
      const masked = toGraphQLError(error.originalError ?? error, 'Unexpected error.');
      return {
        ...error.toJSON(),
        message: masked.message,
        extensions: masked instanceof GraphQLError ? masked.extensions : {},
      };
    });
    return { ...formatted, response: { ...formatted.response, errors } };
  },
});
await app.listen({ port: config.port, host: '127.0.0.1' });
