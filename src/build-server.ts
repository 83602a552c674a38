import type { Server } from 'node:http';
import { createGateway, createServices, type Gateway } from './app.js';
import { createCachePurge } from './cache/purge-caches.js';
import type { Config } from './config.js';
import { createAdminPurge } from './inbound/admin-purge.js';
import { createAdmission } from './inbound/admission.js';
import { limitAnonymousPages } from './inbound/limit-anonymous-pages.js';
import { createPageCache } from './inbound/page-cache.js';
import { createMemoryPageStore } from './inbound/page-store.js';
import { createMetricsServer } from './inbound/metrics-server.js';
import { ADMIN_ROUTES, ROUTES } from './inbound/routes.js';
import { createGatewayServer } from './inbound/server.js';
import { createSharedPageStore } from './inbound/shared-page-store.js';
import { createShedReporter } from './inbound/shed-reporter.js';
import type { Logger } from './logger.js';
import { createFrontStepLog } from './observability/front-step-log.js';
import { createMetrics, disabledMetrics } from './observability/metrics.js';
import { createRequestRecords } from './observability/request-record.js';
import { createTracing } from './observability/tracing.js';
import { createViewerLimiter } from './rate-limit/viewer-limiter.js';
import { createRedisConnection } from './redis/connection.js';
import type { PerService } from './upstreams/services.js';

// The composition root: the one place where the whole server is built from
// `Config`, the front steps in their order and yoga behind them, with every
// long-lived part (metrics, tracing, Redis, limiter, admission) made once and
// handed to whoever needs it. It lives apart from main.ts so that a test can
// build exactly what production runs, in process, and listen on port 0; and
// apart from app.ts, which builds only yoga (a fetch handler that tests drive
// through `yoga.fetch` without any front step).

/** What `buildServer` needs besides the configuration. */
export type BuildServerOptions = {
  /** Where the upstreams are (the configured URLs, or the demo services'). */
  upstreamUrls: PerService<string>;
  logger: Logger;
  /** Answers `/ready`; false (while draining) makes it 503. Default: always ready. */
  isReady?: () => boolean;
};

/** The built server, not yet listening, and what to release after it closed. */
export type BuiltServer = {
  server: Server;
  /** Serves `/metrics` alone, to listen on METRICS_PORT; `null`: metrics on `server` (or off). */
  metricsServer: Server | null;
  gateway: Gateway;
  /** Flushes spans still batched and closes Redis. Call after `server.close()`. */
  release(): Promise<void>;
};

/** Builds the whole server (front steps and yoga) from `config`. It does not listen. */
export function buildServer(
  config: Config,
  { upstreamUrls, logger, isReady }: BuildServerOptions,
): BuiltServer {
  const tracing = createTracing(config.observability);
  // METRICS=false records nothing at all, not only stops serving /metrics.
  const metrics = config.observability.metrics
    ? createMetrics({
        processMetrics: true,
        clientNamesMax: config.observability.clientNamesMax,
      })
    : disabledMetrics();
  // Connects in the background: startup never waits for Redis, and `/ready` never asks it.
  const redisConnection =
    config.redis && createRedisConnection({ ...config.redis, logger, metrics: metrics.shared });
  const rateLimiter = createViewerLimiter({
    perMinute: config.rateLimit.perMinute,
    burst: config.rateLimit.burst,
    connection: redisConnection,
    metrics: metrics.shared,
  });
  // Admission (in front of yoga) and the late-start check (inside it) shed into one
  // count and one log.
  const shedReporter = createShedReporter({ metrics: metrics.admission, logger });
  // Shared by yoga and the page cache, which reads what each answer used after it.
  const records = createRequestRecords({
    requestDeadlineMs: config.requestDeadlineMs,
    metrics: metrics.sink,
    tracer: tracing.tracer,
  });
  // Built here rather than inside the gateway, so that a purge can reach the caches.
  const upstreamServices = createServices({
    ...config,
    upstreamUrls,
    logger,
    metrics,
    redisConnection,
    // Admission's readings (admission is built below; no call is made before it exists).
    ownLoop: {
      standingWaitMs: () => admission.standingWaitMs(),
      longestWaitMs: () => admission.longestWaitMs(),
    },
  });
  const gateway = createGateway({
    ...config,
    // Each request's wait before execution, reported from inside yoga to
    // admission (built below; no request runs before it exists).
    admission: { ...config.admission, onSojourn: (ms) => admission.recordSojourn(ms) },
    upstreamUrls,
    logger,
    metrics,
    tracing,
    shedReporter,
    records,
    ...(isReady && { isReady }),
    redisConnection,
    rateLimiter,
    trustedProxies: config.rateLimit.trustedProxies,
    upstreamServices,
  });
  // With Redis, every replica serves the pages any of them stored.
  const pageStore = redisConnection
    ? createSharedPageStore({
        memory: createMemoryPageStore({ maxBytes: config.pageCache.maxBytes }),
        connection: redisConnection,
        metrics: metrics.shared,
      })
    : createMemoryPageStore({ maxBytes: config.pageCache.maxBytes });
  // Without ADMIN_TOKEN there is no purge endpoint: `/admin/purge` is any unknown path.
  const { token } = config.admin;
  const purge =
    token === null
      ? null
      : createCachePurge({
          promo: upstreamServices.caches.promo,
          books: upstreamServices.caches.books,
          pages: pageStore,
          connection: redisConnection || null,
          logger,
        });
  const purgeStep =
    token !== null &&
    purge !== null &&
    createAdminPurge({ token, purge, logger, trustedProxies: config.rateLimit.trustedProxies });
  // Built after the gateway, so building it is not read as a standing wait.
  const admission = createAdmission({
    ...config.admission,
    requestDeadlineMs: config.requestDeadlineMs,
    metrics: metrics.admission,
    reporter: shedReporter,
  });
  // Metrics on a port of their own (metrics-server.ts says why): the main port drops the route.
  const { metricsPort } = config.observability;
  const metricsServer =
    config.observability.metrics && metricsPort !== null
      ? createMetricsServer(metrics.registry)
      : null;
  const { '/metrics': _metrics, ...withoutMetrics } = ROUTES;
  // In order: refuse what is over its limit, answer an anonymous page from the
  // cache (a hit is served only to a request the limit accepted, and is never
  // shed: it costs less than a refusal), and only then admit or shed. The cache
  // asks admission itself before running a miss; admission's own step takes
  // every other request.
  const server = createGatewayServer(gateway, {
    limits: config.server,
    routes: {
      ...(metricsServer ? withoutMetrics : ROUTES),
      ...(purge && ADMIN_ROUTES),
    },
    steps: [
      // First: an operator's purge is never shed, limited or cached.
      ...(purgeStep ? [purgeStep] : []),
      ...(rateLimiter
        ? [
            limitAnonymousPages({
              limiter: rateLimiter,
              trustedProxies: config.rateLimit.trustedProxies,
            }),
          ]
        : []),
      createPageCache({
        gateway,
        records,
        ...config.pageCache,
        store: pageStore,
        // Every header any upstream receives selects the page.
        forwardHeaders: [...new Set(Object.values(config.forwardHeaders).flat())],
        maxBodyBytes: config.security.maxBodyBytes,
        metrics: metrics.pageCache,
        serverTiming: config.observability.serverTiming,
        logger,
        admit: admission.step,
      }),
      admission.step,
    ],
    logger,
    onStepAnswer: createFrontStepLog({ logger, metrics }),
  });
  return {
    server,
    metricsServer,
    gateway,
    async release() {
      admission.close();
      await tracing.shutdown(); // flush spans still batched
      purge?.close();
      redisConnection?.close();
    },
  };
}
