import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import type { Gateway } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createGatewayServer, type FrontStep } from '../../src/http/server.js';
import { silentLogger } from '../../src/logger.js';

/**
 * For a test file: serves a gateway over real HTTP on loopback (with front
 * steps, as main.ts does), closed after each test.
 */
export function useListeningGateways() {
  const open: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((close) => close()));
  });
  return async (gateway: Gateway, steps: FrontStep[] = []): Promise<string> => {
    const server = createGatewayServer(gateway, {
      limits: loadConfig({}).server,
      steps,
      logger: silentLogger,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
}
