import { readFileSync } from 'node:fs';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { createSchema, createYoga, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import { createViewerVerifier } from './auth.js';
import { createSwrCache } from './cache/swr-cache.js';
import type { Config } from './config.js';
import { createContextFactory, type GatewayContext, type Upstreams } from './context.js';
import { toGraphQLError, type ServiceName } from './errors.js';
import { EXAMPLE_QUERY } from './graphiql.js';
import { createUpstreamClient } from './http/upstream-client.js';
import { LRUCache } from 'lru-cache';
import type { Logger } from './logger.js';
import { useCompiledExecution } from './plugins/use-compiled-execution.js';
import { useExplainedHttpErrors } from './plugins/use-explained-http-errors.js';
import { useIntrospectionSwitch } from './plugins/use-introspection-switch.js';
import { useQueryLimits } from './plugins/use-query-limits.js';
import { useRequestSizeLimit } from './plugins/use-request-size-limit.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import type { UpstreamObserver } from './observability/observer.js';
import { useMaskIncrementalErrors } from './plugins/use-mask-incremental-errors.js';
import { createTracing, type Tracing } from './observability/tracing.js';
import { useTracing } from './plugins/use-tracing.js';
import { useObservability } from './plugins/use-observability.js';
import { useResponseNotes } from './plugins/use-response-notes.js';
import { useTrustedDocuments } from './plugins/use-trusted-documents.js';
import type { Resolvers } from './__generated__/resolvers-types.js';
import { resolvers } from './resolvers/index.js';
import { createCatalogService } from './upstreams/catalog/client.js';
import { createPromoService } from './upstreams/promo/client.js';
import { createRecommendationsService } from './upstreams/recommendations/client.js';

// schema.graphql sits at the package root, one level above both src/ and dist/.
export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** What the gateway needs to run: most of `Config`, plus a logger. */
export type GatewayOptions = Pick<
  Config,
  | 'policies'
  | 'requestDeadlineMs'
  | 'auth'
  | 'security'
  | 'promoCache'
  | 'catalogCache'
  | 'fallbacks'
  | 'observability'
> & {
  upstreamUrls: Record<ServiceName, string>;
  logger: Logger;
  /** Answers `/ready`; false (e.g. while draining) makes it 503. Default: always ready. */
  isReady?: () => boolean;
  /** Process-wide metrics; built here when not given (tests). */
  metrics?: Metrics;
  /** OpenTelemetry tracing; off when not given. */
  tracing?: Tracing;
  /** The resolver map. Default: src/resolvers (the benchmark swaps in a sequential homepage). */
  resolvers?: Resolvers;
};

export type Gateway = YogaServerInstance<object, GatewayContext>;

/** Builds the gateway as a fetch handler. It never listens: see main.ts. */
export function createGateway(options: GatewayOptions): Gateway {
  const metrics = options.metrics ?? createMetrics();
  const upstreams = createUpstreams(options, metrics.observer);
  const { security } = options;
  return createYoga<object, GatewayContext>({
    schema: createSchema<GatewayContext>({ typeDefs, resolvers: options.resolvers ?? resolvers }),
    context: createContextFactory({
      upstreams,
      fallbacks: options.fallbacks,
      verifyViewer: createViewerVerifier({ ...options.auth, logger: options.logger }),
      requestDeadlineMs: options.requestDeadlineMs,
      catalogTimeoutMs: options.policies.catalog.timeoutMs,
      observer: metrics.observer,
      tracer: (options.tracing ?? createTracing({})).tracer,
    }),
    logging: options.logger,
    // Never expose internals, whatever NODE_ENV says: details go to the log.
    maskedErrors: { maskError: toGraphQLError, isDev: false },
    graphiql: security.graphiql && {
      title: 'Bookshop homepage BFF',
      defaultQuery: EXAMPLE_QUERY,
    },
    // Inlined assets: GraphiQL works with no access to a CDN. Loaded on the first
    // GraphiQL page only: the bundle adds tens of MB of memory to a process
    // that may never serve it (production).
    renderGraphiQL: async (graphiqlOptions) =>
      (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(graphiqlOptions),
    landingPage: false,
    batching: security.batchingLimit > 0 && { limit: security.batchingLimit },
    // `/health` (liveness) is yoga's built-in; `/ready` follows the process lifecycle.
    healthCheckEndpoint: '/health',
    plugins: [
      // @defer and @stream over multipart/mixed and text/event-stream.
      useDeferStream(),
      ...useCompiledExecution(),
      useTracing(),
      useMaskIncrementalErrors({ maskError: toGraphQLError }),
      useReadinessCheck({ endpoint: '/ready', check: options.isReady ?? (() => true) }),
      useRequestSizeLimit({ maxBytes: security.maxBodyBytes }),
      ...(security.csrfPrevention ? [useCSRFPrevention()] : []),
      useTrustedDocuments({ ...security.trustedDocuments, logger: options.logger }),
      useIntrospectionSwitch({ enabled: security.introspection }),
      // Query limits (GraphQL Armor): checked at validation, before any resolver runs.
      ...useQueryLimits(security),
      useExplainedHttpErrors(),
      useResponseNotes(),
      useObservability({
        metrics,
        logger: options.logger,
        serverTiming: options.observability.serverTiming,
        metricsEndpoint: options.observability.metrics ? '/metrics' : null,
      }),
    ],
  });
}

/** The long-lived upstream services and caches: one HTTP client (and breaker) each. */
export function createUpstreams(
  options: Pick<
    GatewayOptions,
    'upstreamUrls' | 'policies' | 'promoCache' | 'catalogCache' | 'logger' | 'requestDeadlineMs'
  >,
  observer: UpstreamObserver,
): Upstreams {
  const { upstreamUrls, policies, promoCache, catalogCache, logger } = options;
  const client = (service: ServiceName) =>
    createUpstreamClient({
      service,
      baseUrl: upstreamUrls[service],
      policy: policies[service],
      logger,
      observer,
    });
  const promo = createPromoService(client('promo'), logger, observer);
  return {
    promo: createSwrCache({
      service: 'promo',
      // A shared load serves many requests, so it is not cut short by any one of
      // them; it gets a request's whole budget (retries and Retry-After included).
      load: async ({ requestId, trace }) => {
        const deadlineAt = Date.now() + options.requestDeadlineMs;
        const { promotions, maxAgeMs } = await promo.activePromotions({
          deadlineAt,
          requestId,
          trace,
        });
        return { value: promotions, maxAgeMs };
      },
      ...promoCache,
      logger,
    }),
    recommendations: createRecommendationsService(client('recommendations'), logger, observer),
    catalog: createCatalogService(client('catalog'), logger, observer),
    bookCache:
      catalogCache.ttlMs > 0 && catalogCache.maxEntries > 0
        ? new LRUCache({ max: catalogCache.maxEntries, ttl: catalogCache.ttlMs })
        : null,
  };
}
