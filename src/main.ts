import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { pino } from 'pino';
import { signToken } from './auth.js';
import { buildServer } from './build-server.js';
import { ConfigError, loadConfig } from './config.js';
import { armExitWatchdog } from './exit-watchdog.js';
import { startDemoServices, type DemoServices } from './demo/services.js';
import type { Logger } from './logger.js';

// The process: configuration, demo services when no upstreams are set, listening,
// and an orderly shutdown. The server itself is built in build-server.ts.

const config = (() => {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
})();
// V8 grows its old space up to 4× what survived the last major collection when
// allocation is fast, as it is under load; pages die there (they outlive two
// scavenges), so that growth is the resident set. A fixed factor keeps it near
// what is live, for the same throughput (BENCHMARKS.md, issue 20). Set before
// the heap has grown; V8 reads it at each collection.
if (config.heapGrowthPercent > 0) {
  setFlagsFromString(`--heap-growing-percent=${config.heapGrowthPercent}`);
}
// Structured JSON logs (pino), one object per line. Seam: pino's log methods take
// (object, message) or (message, ...args), which our Logger's (...args) covers.
// Asynchronous writes (sonic-boom, `sync: false`, no minimum length): a line
// goes out at once when the process is idle, and lines logged while a write is
// under way leave together, instead of one blocking write(2) per request line.
// pino flushes what is pending when the process exits.
const logger = pino(
  { level: config.logLevel },
  pino.destination({ dest: 1, sync: false }),
) as unknown as Logger;

let demo: DemoServices | undefined;
let upstreamUrls = config.upstreamUrls;
if (upstreamUrls === null) {
  demo = await startDemoServices(config.demo);
  upstreamUrls = demo.urls;
  logger.info(
    `Demo services started (no upstream URLs set): ${Object.values(demo.urls).join(', ')}`,
  );
}

let draining = false;
const { server, metricsServer, release } = buildServer(config, {
  upstreamUrls,
  logger,
  isReady: () => !draining,
});

server.on('error', (error) => {
  logger.error(`Cannot listen on ${config.host ?? '*'}:${config.port}: ${error.message}`);
  process.exit(1);
});
// Signed before listening, so the ready message is printed in one piece.
const demoToken =
  demo && config.auth.secret ? await signToken(config.auth.secret, 'u-42') : undefined;
metricsServer?.on('error', (error) => {
  logger.error(
    `Cannot serve metrics on port ${config.observability.metricsPort}: ${error.message}`,
  );
  process.exit(1);
});
metricsServer?.listen(config.observability.metricsPort ?? 0, config.host);
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
 * keep-alive sockets are closed as soon as they fall idle.
 *
 * DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS bounds the whole thing, for certain: a
 * timer (held, not `unref`ed: the exit it forces is the one to count on, not
 * the loop happening to run dry) closes every socket and exits a little before
 * the bound, and a watchdog process kills this one at the bound, for when
 * `process.exit` itself does not return: a timer cannot help then, since the
 * main thread never comes back to the loop (exit-watchdog.ts).
 */
async function shutdown(signal: NodeJS.Signals) {
  draining = true;
  logger.info(`${signal}: draining (readiness 503), then shutting down`);
  const boundMs = config.drainDelayMs + config.shutdownTimeoutMs;
  armExitWatchdog({ afterMs: boundMs });
  setTimeout(
    () => {
      logger.warn('Shutdown timeout: exiting with requests still in flight');
      server.closeAllConnections();
      process.exit(1);
    },
    // Leaves `process.exit` a moment to run before the watchdog's SIGKILL.
    boundMs - Math.min(1000, config.shutdownTimeoutMs / 4),
  );

  await sleep(config.drainDelayMs);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Sockets that finish their current request become idle later: keep sweeping.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  await closed;
  clearInterval(sweep);
  // Scraped to the end: the last numbers of a draining replica count too.
  metricsServer?.close();
  metricsServer?.closeAllConnections();
  await release();
  await demo?.close();
  process.exit(0);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, shutdown);
