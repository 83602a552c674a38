import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import type { Gateway } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createGatewayServer, type FrontStep } from '../../src/inbound/server.js';
import { silentLogger } from '../../src/logger.js';

export type Listening = { url: string; origin: string; close(): Promise<void> };

/**
 * The gateway behind Node's server (src/inbound/server.ts) on an ephemeral loopback
 * port, with front steps as build-server.ts gives them.
 */
export async function listen(gateway: Gateway, steps: FrontStep[] = []): Promise<Listening> {
  const server = createGatewayServer(gateway, {
    limits: loadConfig({}).server,
    steps,
    logger: silentLogger,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: `${origin}/graphql`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** For a test file: a `listen` whose servers are closed after each test. */
export function useListening(): typeof listen {
  const open: Listening[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((server) => server.close()));
  });
  return async (gateway, steps) => {
    const server = await listen(gateway, steps);
    open.push(server);
    return server;
  };
}
