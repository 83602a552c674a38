import { readFileSync } from 'node:fs';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { createSchema, createYoga, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { createViewerVerifier } from './auth.js';
import { createSwrCache } from './cache/swr-cache.js';
import type { Config } from './config.js';
import { createContextFactory, type Caches, type GatewayContext } from './context.js';
import { toGraphQLError } from './errors/to-graphql-error.js';
import { EXAMPLE_QUERY } from './graphiql.js';
import { createUpstreamClient } from './http/upstream-client.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createRequestRecords, type RequestRecords } from './observability/request-record.js';
import { createTracing, type Tracing } from './observability/tracing.js';
import { useCacheControl } from './plugins/use-cache-control.js';
import { useCompiledExecution } from './plugins/use-compiled-execution.js';
import { useExplainedHttpErrors } from './plugins/use-explained-http-errors.js';
import { useIntrospectionSwitch } from './plugins/use-introspection-switch.js';
import { useMaskIncrementalErrors } from './plugins/use-mask-incremental-errors.js';
import { useObservability } from './plugins/use-observability.js';
import { useQueryLimits } from './plugins/use-query-limits.js';
import { useRequestSizeLimit } from './plugins/use-request-size-limit.js';
import { useResponseNotes } from './plugins/use-response-notes.js';
import { useTracing } from './plugins/use-tracing.js';
import { useTrustedDocuments } from './plugins/use-trusted-documents.js';
import { resolvers } from './resolvers/index.js';
import {
  perService,
  UPSTREAMS,
  type PerService,
  type ServiceClients,
} from './upstreams/registry.js';

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
  | 'popularPicksTtlMs'
  | 'fallbacks'
  | 'observability'
> & {
  upstreamUrls: PerService<string>;
  logger: Logger;
  /** Answers `/ready`; false (e.g. while draining) makes it 503. Default: always ready. */
  isReady?: () => boolean;
  /** Process-wide metrics; built here when not given (tests). */
  metrics?: Metrics;
  /** OpenTelemetry tracing; off when not given. */
  tracing?: Tracing;
  /**
   * Each request's record; built here when not given. Given when something in
   * front of yoga reads them after the response (the page cache, main.ts).
   */
  records?: RequestRecords;
};

export type Gateway = YogaServerInstance<object, GatewayContext>;

/** Builds the gateway as a fetch handler. It never listens: see main.ts. */
export function createGateway(options: GatewayOptions): Gateway {
  const metrics = options.metrics ?? createMetrics();
  const records =
    options.records ??
    createRequestRecords({
      requestDeadlineMs: options.requestDeadlineMs,
      metrics: metrics.sink,
      tracer: (options.tracing ?? createTracing({})).tracer,
    });
  const { services, caches } = createServices(options);
  const { security } = options;
  return createYoga<object, GatewayContext>({
    schema: createSchema<GatewayContext>({ typeDefs, resolvers }),
    context: createContextFactory({
      services,
      caches,
      fallbacks: options.fallbacks,
      verifyViewer: createViewerVerifier({ ...options.auth, logger: options.logger }),
      records,
      catalogTimeoutMs: options.policies.catalog.timeoutMs,
      popularPicksTtlMs: options.popularPicksTtlMs,
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
    // The body limit is useRequestSizeLimit's (below): a body must declare its
    // length, within MAX_BODY_BYTES, and Node's parser holds it to that length.
    // yoga's own limit (25 MB) pipes every body through a counting stream, whose
    // pipeline and abort signal cost about 3.5% of a page's CPU in the profile.
    maxRequestBodySize: false,
    // `/health` (liveness) is yoga's built-in; `/ready` follows the process lifecycle.
    healthCheckEndpoint: '/health',
    plugins: [
      // @defer and @stream over multipart/mixed and text/event-stream.
      useDeferStream(),
      ...useCompiledExecution(),
      useTracing({ records }),
      useMaskIncrementalErrors({ maskError: toGraphQLError }),
      useReadinessCheck({ endpoint: '/ready', check: options.isReady ?? (() => true) }),
      useRequestSizeLimit({ maxBytes: security.maxBodyBytes }),
      ...(security.csrfPrevention ? [useCSRFPrevention()] : []),
      useTrustedDocuments({ ...security.trustedDocuments, logger: options.logger }),
      useIntrospectionSwitch({ enabled: security.introspection }),
      // Query limits (GraphQL Armor): checked at validation, before any resolver runs.
      ...useQueryLimits(security),
      useExplainedHttpErrors(),
      useResponseNotes({ records }),
      useCacheControl({ records }),
      useObservability({
        metrics,
        records,
        logger: options.logger,
        serverTiming: options.observability.serverTiming,
        metricsEndpoint: options.observability.metrics ? '/metrics' : null,
      }),
    ],
  });
}

/**
 * The long-lived upstream clients (one HTTP client and breaker each, from the
 * service registry) and the caches in front of them.
 */
export function createServices(
  options: Pick<
    GatewayOptions,
    'upstreamUrls' | 'policies' | 'promoCache' | 'catalogCache' | 'logger' | 'requestDeadlineMs'
  >,
): { services: ServiceClients; caches: Caches } {
  const { upstreamUrls, policies, promoCache, catalogCache, logger } = options;
  const services = perService<ServiceClients>((service) =>
    UPSTREAMS[service].createClient(
      createUpstreamClient({
        service,
        baseUrl: upstreamUrls[service],
        policy: policies[service],
        logger,
      }),
      { logger },
    ),
  );
  const caches: Caches = {
    promo: createSwrCache({
      service: 'promo',
      // A shared load serves many requests, so it is not cut short by any one of
      // them; it gets a request's whole budget (retries and Retry-After included).
      load: async (trigger) => {
        const shared = { deadlineAt: Date.now() + options.requestDeadlineMs };
        const { promotions, maxAgeMs } = await services.promo.activePromotions({
          ...trigger,
          shared,
        });
        return { value: promotions, maxAgeMs };
      },
      ...promoCache,
      logger,
    }),
    books:
      catalogCache.ttlMs > 0 && catalogCache.maxEntries > 0
        ? new LRUCache({ max: catalogCache.maxEntries, ttl: catalogCache.ttlMs })
        : null,
  };
  return { services, caches };
}
