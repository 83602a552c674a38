// The "before": the gateway exactly as shipped (src/main.ts's wiring, same
// plugins and logger), except that Homepage.recommendations starts only once
// Homepage.promo has finished, as a hand-written `await promo; await picks` would.
import { createServer } from 'node:http';
import { pino } from 'pino';
import type { HomepageResolvers, Resolvers } from '../../src/__generated__/resolvers-types.js';
import { createGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { resolvers } from '../../src/resolvers/index.js';
import { Homepage } from '../../src/resolvers/homepage.js';

type Resolve<F> = Extract<F, (...args: never[]) => unknown>;
const promo = Homepage.promo as Resolve<HomepageResolvers['promo']>;
const recommendations = Homepage.recommendations as Resolve<HomepageResolvers['recommendations']>;
const promoDone = new WeakMap<object, Promise<unknown>>();

const sequential: Resolvers = {
  ...resolvers,
  Homepage: {
    promo: (parent, args, context, info) => {
      const result = promo(parent, args, context, info);
      promoDone.set(
        context,
        Promise.resolve(result).catch(() => {}),
      );
      return result;
    },
    recommendations: async (parent, args, context, info) => {
      await promoDone.get(context);
      return recommendations(parent, args, context, info);
    },
  },
};

const config = loadConfig();
if (!config.upstreamUrls) throw new Error('set PROMO_URL, RECOMMENDATIONS_URL and CATALOG_URL');
const gateway = createGateway({
  ...config,
  upstreamUrls: config.upstreamUrls,
  logger: pino({ level: config.logLevel }) as unknown as Logger,
  metrics: createMetrics({ processMetrics: true }),
  resolvers: sequential,
});
createServer({ keepAliveTimeout: config.server.keepAliveTimeoutMs }, gateway).listen(
  config.port,
  '127.0.0.1',
);
