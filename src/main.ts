import { createServer } from 'node:http';
import { createLogger } from 'graphql-yoga';
import { createGateway } from './app.js';
import { signToken } from './auth.js';
import { ConfigError, loadConfig } from './config.js';
import { startDemoServices, type DemoServices } from './demo/services.js';

// The process: configuration, demo services when no upstreams are set, listening,
// and an orderly shutdown. Everything else is built in app.ts.

const SHUTDOWN_GRACE_MS = 10_000;

const config = (() => {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
})();
const logger = createLogger(config.logLevel);

let demo: DemoServices | undefined;
let upstreamUrls = config.upstreamUrls;
if (upstreamUrls === null) {
  demo = await startDemoServices(config.demo);
  upstreamUrls = demo.urls;
  logger.info(
    'No PROMO_URL/RECOMMENDATIONS_URL/CATALOG_URL set: started the demo services at',
    Object.values(demo.urls).join(', '),
  );
}

const gateway = createGateway({
  upstreamUrls,
  timeoutsMs: config.timeoutsMs,
  requestDeadlineMs: config.requestDeadlineMs,
  jwtSecret: config.jwtSecret,
  logger,
});
const server = createServer(gateway);

server.on('error', (error) => {
  logger.error(`Cannot listen on ${config.host ?? '*'}:${config.port}: ${error.message}`);
  process.exit(1);
});
// Signed before listening, so the ready message is printed in one piece.
const demoToken = demo ? await signToken(config.jwtSecret, 'u-42') : undefined;
server.listen(config.port, config.host, () => {
  const shown = config.host === undefined || config.host === '0.0.0.0' || config.host === '::';
  const url = `http://${shown ? 'localhost' : config.host}:${config.port}/graphql`;
  logger.info(`Gateway ready: open ${url} in a browser for GraphiQL`);
  if (demoToken) {
    logger.info(
      `Demo mode. Personal picks for user u-42: add the header {"Authorization": "Bearer ${demoToken}"} (or: npm run token -- <userId>)`,
    );
  }
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info(`${signal}: shutting down`);
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
    server.close(async () => {
      await demo?.close();
      process.exit(0);
    });
    server.closeIdleConnections();
  });
}
