import { readFileSync } from 'node:fs';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { createSchema, createYoga, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import { z } from 'zod';
import { createViewerVerifier } from './auth.js';
import { createBookCache } from './cache/book-cache.js';
import { createRedisSwrLevel } from './cache/redis-swr-level.js';
import { createSwrCache } from './cache/swr-cache.js';
import { createVariantSwrCache } from './cache/variant-swr-cache.js';
import type { Config } from './config.js';
import { createContextFactory, type Caches, type GatewayContext } from './context.js';
import { toGraphQLError } from './errors/to-graphql-error.js';
import { EXAMPLE_QUERY } from './graphiql.js';
import { createShedReporter, type ShedReporter } from './inbound/shed-reporter.js';
import { forwardVariant } from './outbound/forward-headers.js';
import { createUpstreamClient, type OwnLoop } from './outbound/upstream-client.js';
import type { Logger } from './logger.js';
import {
  createMetrics,
  disabledMetrics,
  silentSharedMetrics,
  type Metrics,
} from './observability/metrics.js';
import { createRequestRecords, type RequestRecords } from './observability/request-record.js';
import { createTracing, type Tracing } from './observability/tracing.js';
import {
  createMemoryPersistedQueryStore,
  type PersistedQueryStore,
} from './persisted/persisted-query-store.js';
import { createSharedPersistedQueryStore } from './persisted/shared-persisted-query-store.js';
import { useAllowCrossOrigin } from './plugins/use-allow-cross-origin.js';
import { useCompressResponses } from './plugins/use-compress-responses.js';
import { useCsrfPrevention } from './plugins/use-csrf-prevention.js';
import { useRefuseMalformedParams } from './plugins/use-refuse-malformed-params.js';
import { useRefuseStreamReservation } from './plugins/use-refuse-stream-reservation.js';
import { useCacheControl } from './plugins/use-cache-control.js';
import { useCompiledExecution } from './plugins/use-compiled-execution.js';
import { useExplainedHttpErrors } from './plugins/use-explained-http-errors.js';
import { useIntrospectionSwitch } from './plugins/use-introspection-switch.js';
import { useMaskIncrementalErrors } from './plugins/use-mask-incremental-errors.js';
import { useObservability } from './plugins/use-observability.js';
import { useQueryLimits } from './plugins/use-query-limits.js';
import { useRequestSizeLimit } from './plugins/use-request-size-limit.js';
import { useResponseNotes } from './plugins/use-response-notes.js';
import { useSchemaUsage } from './plugins/use-schema-usage.js';
import { useShedLateRequests } from './plugins/use-shed-late-requests.js';
import { useTracing } from './plugins/use-tracing.js';
import { useTrustedDocuments } from './plugins/use-trusted-documents.js';
import type { ViewerLimiter } from './rate-limit/viewer-limiter.js';
import type { RedisConnection } from './redis/connection.js';
import { KEYS } from './redis/keys.js';
import { resolvers } from './resolvers/index.js';
import { Promotion } from './upstreams/promo/schema.js';
import { UPSTREAMS, type ServiceClients } from './upstreams/registry.js';
import { perService, type PerService } from './upstreams/services.js';

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
  | 'compressionMinBytes'
> & {
  upstreamUrls: PerService<string>;
  logger: Logger;
  /** Answers `/ready`; false (e.g. while draining) makes it 503. Default: always ready. */
  isReady?: () => boolean;
  /** Process-wide metrics; built here when not given (tests), recording nothing with `METRICS=false`. */
  metrics?: Metrics;
  /** OpenTelemetry tracing; off when not given. */
  tracing?: Tracing;
  /**
   * Redis, shared by every replica: second level of the promo and book caches
   * (src/redis/connection.ts). Default: none, everything in process memory.
   */
  redisConnection?: RedisConnection | null;
  /**
   * Pages per minute per signed-in viewer, checked right after the token
   * (anonymous viewers are limited by a front step: src/inbound/limit-anonymous-pages.ts).
   * Default: none.
   */
  rateLimiter?: ViewerLimiter | null;
  /**
   * Where automatic persisted queries are registered. Default: in memory, bounded
   * by `security.trustedDocuments.storeMaxBytes` (`0`: APQ off). Give a shared one (Redis) so a
   * registration on one replica serves them all.
   */
  persistedQueryStore?: PersistedQueryStore;
  /** Proxies whose `X-Forwarded-For` names the client (per-client APQ budgets). Default: none. */
  trustedProxies?: readonly string[];
  /** Where shed requests are counted and logged, shared with admission (build-server.ts); built here when not given. */
  shedReporter?: ShedReporter;
  /** ADMISSION: `enabled: false` also drops the late-start check (nothing is shed). Default on. */
  admission?: Pick<Config['admission'], 'enabled'> & {
    /** Told how long each request waited before its execution (inbound/sojourn.ts). */
    onSojourn?: (waitedMs: number) => void;
  };
  /**
   * Each request's record; built here when not given. Given when something in
   * front of yoga reads them after the response (the page cache, build-server.ts).
   */
  records?: RequestRecords;
  /** Client headers passed on to each service (`<SERVICE>_FORWARD_HEADERS`). Default: none. */
  forwardHeaders?: Config['forwardHeaders'];
  /**
   * The upstream clients and their caches (createServices); built here when not
   * given. build-server.ts builds them itself, so that a purge can reach the caches.
   */
  upstreamServices?: { services: ServiceClients; caches: Caches };
};

export type Gateway = YogaServerInstance<object, GatewayContext>;

/** Builds the gateway as a fetch handler. It never listens: see build-server.ts. */
export function createGateway(options: GatewayOptions): Gateway {
  const metrics =
    options.metrics ??
    (options.observability.metrics
      ? createMetrics({ clientNamesMax: options.observability.clientNamesMax })
      : disabledMetrics());
  const records =
    options.records ??
    createRequestRecords({
      requestDeadlineMs: options.requestDeadlineMs,
      metrics: metrics.sink,
      tracer: (options.tracing ?? createTracing({})).tracer,
    });
  const { services, caches } = options.upstreamServices ?? createServices({ ...options, metrics });
  const { security } = options;
  const shedReporter =
    options.shedReporter ??
    createShedReporter({ metrics: metrics.admission, logger: options.logger });
  return createYoga<object, GatewayContext>({
    schema: createSchema<GatewayContext>({ typeDefs, resolvers }),
    context: createContextFactory({
      services,
      caches,
      fallbacks: options.fallbacks,
      verifyViewer: createViewerVerifier({ ...options.auth, logger: options.logger }),
      records,
      catalogTimeoutMs: options.policies.catalog.timeoutMs,
      rateLimiter: options.rateLimiter ?? null,
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
    // Replaced by useAllowCrossOrigin: yoga's reflects any origin, with credentials.
    cors: false,
    batching: security.batchingLimit > 0 && { limit: security.batchingLimit },
    // The body limit is useRequestSizeLimit's (below): a body must declare its
    // length, within MAX_BODY_BYTES, and Node's parser holds it to that length.
    // yoga's own limit (25 MB) pipes every body through a counting stream, whose
    // pipeline and abort signal cost about 3.5% of a page's CPU in the profile.
    maxRequestBodySize: false,
    // `/health` (liveness) is yoga's built-in; `/ready` follows the process lifecycle.
    healthCheckEndpoint: '/health',
    // The only GraphQL path: the Node server routes nothing else here (inbound/routes.ts).
    graphqlEndpoint: '/graphql',
    plugins: [
      // Preflights are answered first: they cost nothing else.
      useAllowCrossOrigin({ origins: security.corsOrigins }),
      useRefuseStreamReservation(),
      // @defer and @stream over multipart/mixed and text/event-stream.
      useDeferStream(),
      ...useCompiledExecution(),
      useTracing({ records }),
      useMaskIncrementalErrors({ maskError: toGraphQLError }),
      useReadinessCheck({ endpoint: '/ready', check: options.isReady ?? (() => true) }),
      useRequestSizeLimit({ maxBytes: security.maxBodyBytes }),
      ...(security.csrfPrevention ? [useCsrfPrevention()] : []),
      useRefuseMalformedParams(),
      useTrustedDocuments({
        ...security.trustedDocuments,
        store: options.persistedQueryStore ?? persistedQueryStore(options, metrics),
        ...(options.trustedProxies && { trustedProxies: options.trustedProxies }),
        logger: options.logger,
      }),
      useIntrospectionSwitch({ enabled: security.introspection }),
      // Query limits (GraphQL Armor): checked at validation, before any resolver runs.
      ...useQueryLimits(security),
      useExplainedHttpErrors(),
      // A tenth of the deadline: less cannot fetch the lists and then their books.
      ...(options.admission?.enabled === false
        ? []
        : [
            useShedLateRequests({
              records,
              reporter: shedReporter,
              marginMs: options.requestDeadlineMs / 10,
              ...(options.admission?.onSojourn && { onSojourn: options.admission.onSojourn }),
            }),
          ]),
      useResponseNotes({ records }),
      useCacheControl({ records }),
      useObservability({
        metrics,
        records,
        logger: options.logger,
        serverTiming: options.observability.serverTiming,
        metricsEndpoint: options.observability.metrics ? '/metrics' : null,
      }),
      // Who selects which schema coordinate: what schema:check --usage reads.
      ...(options.observability.schemaUsage
        ? [useSchemaUsage({ counter: metrics.schemaFields, logger: options.logger })]
        : []),
      // Last: it copies the headers every other plugin set.
      useCompressResponses({ minBytes: options.compressionMinBytes }),
    ],
  });
}

/**
 * The long-lived upstream clients (one HTTP client and breaker each, from the
 * service registry) and the caches in front of them: in process memory, with
 * Redis as a second level when a connection is given. Recommendations are
 * personal and never cached, in memory or in Redis.
 */
export function createServices(
  options: Pick<
    GatewayOptions,
    | 'upstreamUrls'
    | 'policies'
    | 'promoCache'
    | 'catalogCache'
    | 'logger'
    | 'requestDeadlineMs'
    | 'redisConnection'
    | 'metrics'
    | 'forwardHeaders'
  > & {
    /** The process's own event loop, for telling its timeouts from an upstream's (upstream-client.ts). */
    ownLoop?: OwnLoop;
  },
): { services: ServiceClients; caches: Caches } {
  const { upstreamUrls, policies, promoCache, catalogCache, logger } = options;
  const forwardHeaders =
    options.forwardHeaders ?? perService<PerService<readonly string[]>>(() => []);
  const connection = options.redisConnection ?? null;
  const metrics = options.metrics?.shared ?? silentSharedMetrics;
  const services = perService<ServiceClients>((service) =>
    UPSTREAMS[service].createClient(
      createUpstreamClient({
        service,
        baseUrl: upstreamUrls[service],
        policy: policies[service],
        logger,
        forwardHeaders: forwardHeaders[service],
        ownLoop: options.ownLoop,
      }),
      { logger },
    ),
  );
  const createPromoCache = (variant: string) =>
    createSwrCache({
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
      shared:
        connection === null
          ? undefined
          : createRedisSwrLevel({
              connection,
              key: KEYS.promoOf(variant),
              lockKey: KEYS.promoLockOf(variant),
              schema: z.array(Promotion),
              // The load's own deadline (above): no refresh holds the claim longer.
              lockTtlMs: options.requestDeadlineMs,
              cache: 'promo',
              metrics,
            }),
      onHit: (level) => metrics.cacheLevelHit('promo', level),
    });
  const caches: Caches = {
    // Promo is shared by everyone, unless it reads forwarded headers: then one
    // cache (and one Redis entry) per variant they select.
    promo: createVariantSwrCache({
      variantOf: ({ record }) => forwardVariant(forwardHeaders.promo, record.clientHeaders),
      create: createPromoCache,
    }),
    books:
      catalogCache.ttlMs > 0 && catalogCache.maxEntries > 0
        ? createBookCache({
            ...catalogCache,
            shared: connection ?? undefined,
            metrics,
            forwardHeaders: forwardHeaders.catalog,
          })
        : null,
  };
  return { services, caches };
}

// Private helpers.

/**
 * Where APQ registrations live: memory bounded by bytes, with Redis behind it
 * when the gateway runs with one; `null` when APQ is off (`APQ_CACHE_MAX_BYTES=0`).
 */
function persistedQueryStore(
  { security, redisConnection }: Pick<GatewayOptions, 'security' | 'redisConnection'>,
  metrics: Metrics,
): PersistedQueryStore | null {
  const { storeMaxBytes } = security.trustedDocuments;
  if (storeMaxBytes === 0) return null;
  const memory = createMemoryPersistedQueryStore({ maxBytes: storeMaxBytes });
  if (!redisConnection) return memory;
  return createSharedPersistedQueryStore({
    memory,
    connection: redisConnection,
    onInvalid: () => metrics.shared.invalidValue('persisted_query'),
  });
}
