// The "before": the gateway exactly as shipped (src/main.ts's wiring, same
// plugins and logger), except that Homepage.recommendations starts only once
// Homepage.promo has finished, as a hand-written `await promo; await picks` would.
// Built here, by wrapping two resolvers of the gateway's own schema: src/ has no
// seam for it.
import { createServer } from 'node:http';
import { isObjectType, type GraphQLFieldResolver } from 'graphql';
import { pino } from 'pino';
import { createGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';

const config = loadConfig();
if (!config.upstreamUrls) throw new Error('set every <SERVICE>_URL');
const gateway = createGateway({
  ...config,
  upstreamUrls: config.upstreamUrls,
  logger: pino({ level: config.logLevel }) as unknown as Logger,
  metrics: createMetrics({ processMetrics: true }),
});

// Before the first request, so graphql-jit compiles the wrapped resolvers.
const homepage = gateway.getEnveloped({}).schema.getType('Homepage');
if (!isObjectType(homepage)) throw new Error('schema.graphql has no Homepage type');
const { promo, recommendations } = homepage.getFields();
const promoResolve = promo?.resolve;
const recommendationsResolve = recommendations?.resolve;
if (!promo || !recommendations || !promoResolve || !recommendationsResolve) {
  throw new Error('Homepage.promo and Homepage.recommendations must have resolvers');
}
const promoDone = new WeakMap<object, Promise<unknown>>();
promo.resolve = ((parent, args, context: object, info) => {
  const result = promoResolve(parent, args, context, info);
  promoDone.set(
    context,
    Promise.resolve(result).catch(() => {}),
  );
  return result;
}) satisfies GraphQLFieldResolver<unknown, object>;
recommendations.resolve = (async (parent, args, context: object, info) => {
  await promoDone.get(context);
  return recommendationsResolve(parent, args, context, info);
}) satisfies GraphQLFieldResolver<unknown, object>;

createServer({ keepAliveTimeout: config.server.keepAliveTimeoutMs }, gateway).listen(
  config.port,
  '127.0.0.1',
);
