import { readFileSync } from 'node:fs';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createSchema, createYoga, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import { createViewerVerifier } from './auth.js';
import { createContextFactory, type GatewayContext, type Upstreams } from './context.js';
import { toGraphQLError, type ServiceName } from './errors.js';
import { EXAMPLE_QUERY } from './graphiql.js';
import { createUpstreamClient } from './http/upstream-client.js';
import type { Logger } from './logger.js';
import { resolvers } from './resolvers/index.js';
import { createCatalogService } from './upstreams/catalog/client.js';
import { createPromoService } from './upstreams/promo/client.js';
import { createRecommendationsService } from './upstreams/recommendations/client.js';

// schema.graphql sits at the package root, one level above both src/ and dist/.
const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** What the gateway needs to run; `loadConfig` provides most of it. */
export type GatewayOptions = {
  upstreamUrls: Record<ServiceName, string>;
  timeoutsMs: Record<ServiceName, number>;
  /** Every response goes out by then, with whatever resolved. */
  requestDeadlineMs: number;
  jwtSecret: string;
  logger: Logger;
  /** Answers `/ready`; false (e.g. while draining) makes it 503. Default: always ready. */
  isReady?: () => boolean;
};

export type Gateway = YogaServerInstance<object, GatewayContext>;

/** Builds the gateway as a fetch handler. It never listens: see main.ts. */
export function createGateway(options: GatewayOptions): Gateway {
  const upstreams = createUpstreams(options);
  return createYoga<object, GatewayContext>({
    schema: createSchema<GatewayContext>({ typeDefs, resolvers }),
    context: createContextFactory({
      upstreams,
      verifyViewer: createViewerVerifier(options.jwtSecret),
      requestDeadlineMs: options.requestDeadlineMs,
    }),
    logging: options.logger,
    // Never expose internals, whatever NODE_ENV says: details go to the log.
    maskedErrors: { maskError: toGraphQLError, isDev: false },
    graphiql: { title: 'Bookshop homepage BFF', defaultQuery: EXAMPLE_QUERY },
    // Inlined assets: GraphiQL works with no access to a CDN.
    renderGraphiQL,
    landingPage: false,
    // `/health` (liveness) is yoga's built-in; `/ready` follows the process lifecycle.
    healthCheckEndpoint: '/health',
    plugins: [useReadinessCheck({ endpoint: '/ready', check: options.isReady ?? (() => true) })],
  });
}

/** The long-lived upstream services, one HTTP client each. */
function createUpstreams({ upstreamUrls, timeoutsMs, logger }: GatewayOptions): Upstreams {
  const client = (service: ServiceName) =>
    createUpstreamClient({
      service,
      baseUrl: upstreamUrls[service],
      timeoutMs: timeoutsMs[service],
      logger,
    });
  return {
    promo: createPromoService(client('promo'), logger),
    recommendations: createRecommendationsService(client('recommendations'), logger),
    catalog: createCatalogService(client('catalog'), logger),
  };
}
