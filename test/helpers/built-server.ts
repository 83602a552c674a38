import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { buildServer, type BuiltServer } from '../../src/build-server.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { perService, type PerService, type ServiceName } from '../../src/upstreams/services.js';
import { HOMEPAGE_QUERY, startUpstreams, TEST_SECRET } from './gateway.js';
import { redisUp } from './redis.js';
import type { Handler, Upstream } from './upstream.js';

/** The whole server as main.ts builds it, listening on loopback port 0. */
export type RunningServer = {
  built: BuiltServer;
  port: number;
  origin: string;
  /** The metrics server's origin, when METRICS_PORT gives it one (listening on port 0). */
  metricsOrigin: string | undefined;
  upstreams: PerService<Upstream>;
  /** Requests all upstreams received so far. */
  upstreamCalls(): number;
  /** An anonymous home page, as a browser's client would POST it. */
  page(headers?: Record<string, string>): Promise<Response>;
  /** Resolves once the server's Redis connection is up (helpers/redis.ts): tests that count keys wait for it. */
  redisUp(): Promise<void>;
};

/**
 * For a test file: `start(env)` builds the server from a configuration read like
 * the environment (`JWT_SECRET` is the tests' own unless given) and closes it,
 * its metrics server and its upstreams after each test.
 */
export function useBuiltServers() {
  const running: RunningServer[] = [];
  afterEach(async () => {
    for (const { built, upstreams } of running.splice(0)) {
      for (const server of [built.server, built.metricsServer]) {
        if (server === null || !server.listening) continue;
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      await built.release();
      await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
    }
  });
  return async (
    env: Record<string, string> = {},
    {
      handlers,
      logger = silentLogger,
    }: { handlers?: Partial<Record<ServiceName, Handler>>; logger?: Logger } = {},
  ): Promise<RunningServer> => {
    const upstreams = await startUpstreams(handlers);
    const config = loadConfig({ JWT_SECRET: TEST_SECRET, ...env });
    const built = buildServer(config, {
      upstreamUrls: perService<PerService<string>>((service) => upstreams[service].url),
      logger,
    });
    const server: RunningServer = {
      built,
      port: 0,
      origin: '',
      metricsOrigin: undefined,
      upstreams,
      upstreamCalls: () =>
        Object.values(upstreams).reduce((sum, upstream) => sum + upstream.requests.length, 0),
      page: (headers = {}) =>
        fetch(`${server.origin}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
          body: JSON.stringify({ query: HOMEPAGE_QUERY }),
        }),
      redisUp: () => redisUp(server.metricsOrigin ?? server.origin),
    };
    running.push(server);
    await new Promise<void>((resolve) => built.server.listen(0, '127.0.0.1', resolve));
    server.port = (built.server.address() as AddressInfo).port;
    server.origin = `http://127.0.0.1:${server.port}`;
    const { metricsServer } = built;
    if (metricsServer) {
      await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
      server.metricsOrigin = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;
    }
    return server;
  };
}
