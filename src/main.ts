import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createGateway } from './app.js';
import { signToken } from './auth.js';
import { ConfigError, loadConfig } from './config.js';
import { startDemoServices, type DemoServices } from './demo/services.js';
import type { Logger } from './logger.js';
import { createMetrics, disabledMetrics } from './observability/metrics.js';
import { createAdmission } from './inbound/admission.js';
import { limitAnonymousPages } from './inbound/limit-anonymous-pages.js';
import { createPageCache } from './inbound/page-cache.js';
import { createMemoryPageStore } from './inbound/page-store.js';
import { createSharedPageStore } from './inbound/shared-page-store.js';
import { createGatewayServer } from './inbound/server.js';
import { createShedReporter } from './inbound/shed-reporter.js';
import { createFrontStepLog } from './observability/front-step-log.js';
import { createRequestRecords } from './observability/request-record.js';
import { createTracing } from './observability/tracing.js';
import { createViewerLimiter } from './rate-limit/viewer-limiter.js';
import { createRedisConnection } from './redis/connection.js';

// The process: configuration, demo services when no upstreams are set, listening,
// and an orderly shutdown. Everything else is built in app.ts.

const config = (() => {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
})();
// Structured JSON logs (pino), one object per line. Seam: pino's log methods take
// (object, message) or (message, ...args), which our Logger's (...args) covers.
const logger = pino({ level: config.logLevel }) as unknown as Logger;

let demo: DemoServices | undefined;
let upstreamUrls = config.upstreamUrls;
if (upstreamUrls === null) {
  demo = await startDemoServices(config.demo);
  upstreamUrls = demo.urls;
  logger.info(
    `Demo services started (no upstream URLs set): ${Object.values(demo.urls).join(', ')}`,
  );
}

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
let draining = false;
const gateway = createGateway({
  ...config,
  upstreamUrls,
  logger,
  metrics,
  tracing,
  shedReporter,
  records,
  isReady: () => !draining,
  redisConnection,
  rateLimiter,
});
// Built after the gateway, so building it is not read as event-loop delay.
const admission = createAdmission({
  ...config.admission,
  metrics: metrics.admission,
  reporter: shedReporter,
});
// In order: shed what cannot be served in time, then what is over its limit, and
// only then answer an anonymous page from the cache (a hit is served only to a
// request the pipeline would have accepted).
const server = createGatewayServer(gateway, {
  limits: config.server,
  steps: [
    admission.step,
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
      // With Redis, every replica serves the pages any of them stored.
      ...(redisConnection && {
        store: createSharedPageStore({
          memory: createMemoryPageStore({ maxBytes: config.pageCache.maxBytes }),
          connection: redisConnection,
          metrics: metrics.shared,
        }),
      }),
      maxBodyBytes: config.security.maxBodyBytes,
      metrics: metrics.pageCache,
      serverTiming: config.observability.serverTiming,
      logger,
    }),
  ],
  logger,
  onStepAnswer: createFrontStepLog({
    logger,
    metrics,
  }),
});

server.on('error', (error) => {
  logger.error(`Cannot listen on ${config.host ?? '*'}:${config.port}: ${error.message}`);
  process.exit(1);
});
// Signed before listening, so the ready message is printed in one piece.
const demoToken =
  demo && config.auth.secret ? await signToken(config.auth.secret, 'u-42') : undefined;
server.listen(config.port, config.host, () => {
  const shown = config.host === undefined || config.host === '0.0.0.0' || config.host === '::';
  const url = `http://${shown ? 'localhost' : config.host}:${config.port}/graphql`;
  logger.info(`Gateway ready at ${url}`);
  // For the person at the terminal, in plain words (the JSON log above is for machines).
  console.log(`\nGateway ready: open ${url} in a browser for GraphiQL.`);
  if (demoToken) {
    console.log(
      `Demo mode. Personal picks for user u-42: add the header {"Authorization": "Bearer ${demoToken}"} (or: npm run token -- <userId>)\n`,
    );
  }
});

/**
 * Drain: `/ready` turns 503 at once so load balancers stop sending; after
 * DRAIN_DELAY_MS the server stops accepting, in-flight requests finish, and
 * keep-alive sockets are closed as soon as they fall idle. SHUTDOWN_TIMEOUT_MS
 * bounds the whole thing.
 */
async function shutdown(signal: NodeJS.Signals) {
  draining = true;
  logger.info(`${signal}: draining (readiness 503), then shutting down`);
  setTimeout(() => {
    logger.warn('Shutdown timeout: exiting with requests still in flight');
    process.exit(1);
  }, config.drainDelayMs + config.shutdownTimeoutMs).unref();

  await sleep(config.drainDelayMs);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Sockets that finish their current request become idle later: keep sweeping.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  await closed;
  clearInterval(sweep);
  await tracing.shutdown(); // flush spans still batched
  redisConnection?.close();
  await demo?.close();
  process.exit(0);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, shutdown);
