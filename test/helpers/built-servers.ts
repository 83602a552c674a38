import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { buildServer, type BuiltServer } from '../../src/build-server.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { perService, type PerService, type ServiceName } from '../../src/upstreams/services.js';
import { HOMEPAGE_QUERY, startUpstreams, TEST_SECRET } from './gateway.js';
import type { Handler, Upstream } from './upstream.js';

/** One server as main.ts builds it (build-server.ts), listening on loopback, with its own upstreams. */
export type BuiltReplica = {
  origin: string;
  upstreams: PerService<Upstream>;
  /** An anonymous home page, as a browser's client would POST it. */
  page(headers?: Record<string, string>): Promise<Response>;
};

/**
 * For a test file: starts whole servers (front steps and yoga) from an
 * environment, each with its own loopback upstreams; all closed after each test.
 */
export function useBuiltServers() {
  const running: Array<{ built: BuiltServer; upstreams: PerService<Upstream> }> = [];
  afterEach(async () => {
    for (const { built, upstreams } of running.splice(0)) {
      built.server.closeAllConnections();
      await new Promise((resolve) => built.server.close(resolve));
      await built.release();
      await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
    }
  });
  return async (
    env: Record<string, string> = {},
    {
      handlers = {},
      logger = silentLogger,
    }: { handlers?: Partial<Record<ServiceName, Handler>>; logger?: Logger } = {},
  ): Promise<BuiltReplica> => {
    const upstreams = await startUpstreams(handlers);
    // No shedding on a busy test machine: these tests are not about load.
    const config = loadConfig({ JWT_SECRET: TEST_SECRET, ...env });
    const built = buildServer(config, {
      upstreamUrls: perService<PerService<string>>((service) => upstreams[service].url),
      logger,
    });
    running.push({ built, upstreams });
    await new Promise<void>((resolve) => built.server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(built.server.address() as AddressInfo).port}`;
    return {
      origin,
      upstreams,
      page: (headers = {}) =>
        fetch(`${origin}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
          body: JSON.stringify({ query: HOMEPAGE_QUERY }),
        }),
    };
  };
}

/** Asks `check` again (every 20 ms, at most `tries` times) until it holds; for fire-and-forget effects. */
export async function eventually(check: () => Promise<boolean>, tries = 250): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the condition never held: ${check.toString()}`);
}
