import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../src/app.js';
import { errorResponse } from '../src/errors/vocabulary.js';
import { createGatewayServer, type FrontStep } from '../src/inbound/server.js';
import { silentLogger, type Logger } from '../src/logger.js';
import { createFrontStepLog } from '../src/observability/front-step-log.js';
import { createMetrics } from '../src/observability/metrics.js';
import { loadConfig } from '../src/config.js';
import { testGatewayOptions } from './helpers/gateway.js';

// Requests answered in front of yoga (a page-cache hit, a rate-limited client)
// are logged once like every other request, except sheds (logged as a state).

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A server whose only step answers every request with `status`, and the lines it logged. */
async function serverAnswering(status: number) {
  const lines: Array<Record<string, unknown>> = [];
  const logger: Logger = { ...silentLogger, info: (line: unknown) => lines.push(line as never) };
  const metrics = createMetrics();
  const unused = 'http://127.0.0.1:9';
  const gateway = createGateway(
    testGatewayOptions({ promo: unused, recommendations: unused, catalog: unused }),
  );
  const step: FrontStep = async (_req, res) => {
    const response =
      status === 200
        ? new Response('{"data":{}}', { status })
        : errorResponse(status === 429 ? 'RATE_LIMITED' : 'OVERLOADED');
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
    if (status === 200) return { cache: 'hit', requestId: 'req-1' };
    return { code: status === 429 ? 'RATE_LIMITED' : 'OVERLOADED' };
  };
  const server = createGatewayServer(gateway, {
    limits: loadConfig({}).server,
    steps: [step],
    logger: silentLogger,
    onStepAnswer: createFrontStepLog({ logger, metrics }),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.dispose();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return { url, lines, metrics };
}

describe('the request log for answers given in front of yoga', () => {
  it('logs a page-cache hit once, with its cache result and the client', async () => {
    const { url, lines, metrics } = await serverAnswering(200);
    await (await fetch(url, { headers: { 'apollographql-client-name': 'web' } })).text();
    await new Promise((resolve) => setImmediate(resolve));

    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'graphql request',
        requestId: 'req-1',
        status: 200,
        cache: 'hit',
        client: 'web',
        path: '/graphql',
      }),
    ]);
    expect(await metrics.registry.metrics()).toMatch(
      /bff_http_requests_total\{client="web",client_version="none",status="200"\} 1/,
    );
  });

  it('logs a rate-limited request with its code', async () => {
    const { url, lines } = await serverAnswering(429);
    await (await fetch(url)).text();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([expect.objectContaining({ status: 429, code: 'RATE_LIMITED' })]);
  });

  it('does not log shed requests one by one', async () => {
    const { url, lines } = await serverAnswering(503);
    await (await fetch(url)).text();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([]);
  });
});
