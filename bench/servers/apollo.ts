// Apollo Server 5 (its standalone server) with the gateway's schema, resolvers,
// upstream clients, caches and context factory: what the same code costs on
// Apollo instead of yoga. Errors are masked with the same function.
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
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
  context: ({ req, res }) => {
    // The factory reads headers and a cancellation signal: give it the same from Node's request.
    const aborted = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) aborted.abort();
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    return contextFor({
      request: new Request('http://apollo.local/', { headers, signal: aborted.signal }),
    });
  },
});
