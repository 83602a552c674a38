// Mercurius (on Fastify) with graphql-jit and the gateway's schema, resolvers,
// upstream clients, caches and context factory: the fastest Node GraphQL server
// as a peer, running the same code as the gateway. Errors are masked with the
// same function. A dev dependency of the benchmark only.
import Fastify from 'fastify';
import { GraphQLError } from 'graphql';
import { createSchema } from 'graphql-yoga';
import mercurius from 'mercurius';
import { createViewerVerifier } from '../../src/auth.js';
import { createServices, typeDefs } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createContextFactory, type GatewayContext } from '../../src/context.js';
import { toGraphQLError } from '../../src/errors/to-graphql-error.js';
import { silentLogger } from '../../src/logger.js';
import { createRequestRecords, silentSink } from '../../src/observability/request-record.js';
import { createTracing } from '../../src/observability/tracing.js';
import { resolvers } from '../../src/resolvers/index.js';

const config = loadConfig();
if (!config.upstreamUrls) throw new Error('set every <SERVICE>_URL');
const contextFor = createContextFactory({
  ...createServices({ ...config, upstreamUrls: config.upstreamUrls, logger: silentLogger }),
  fallbacks: config.fallbacks,
  verifyViewer: createViewerVerifier({ ...config.auth, logger: silentLogger }),
  records: createRequestRecords({
    requestDeadlineMs: config.requestDeadlineMs,
    metrics: silentSink,
    tracer: createTracing({}).tracer,
  }),
  catalogTimeoutMs: config.policies.catalog.timeoutMs,
});

const app = Fastify({ logger: false, keepAliveTimeout: config.server.keepAliveTimeoutMs });
await app.register(mercurius, {
  // The same executable schema yoga builds (graphql-tools under the hood).
  schema: createSchema<GatewayContext>({ typeDefs, resolvers }),
  path: '/graphql',
  graphiql: false,
  // Compile a query with graphql-jit from its first execution on.
  jit: 1,
  context: (request, reply) => {
    // The factory reads headers and a cancellation signal: give it the same from Fastify's request.
    const aborted = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) aborted.abort();
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    return contextFor({
      request: new Request('http://mercurius.local/', { headers, signal: aborted.signal }),
    });
  },
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
