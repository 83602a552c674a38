import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signToken } from '../src/auth.js';
import { buildServer, type BuiltServer } from '../src/build-server.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { perService, type PerService, type ServiceName } from '../src/upstreams/services.js';
import { keepLoopBusy } from './helpers/busy-loop.js';
import { catalogHandler, promoHandler, recommendationsHandler } from './helpers/fixtures.js';
import { HOMEPAGE_QUERY, startUpstreams, TEST_SECRET } from './helpers/gateway.js';
import type { Handler, Upstream } from './helpers/upstream.js';

// Admission control in the whole server, built as main.ts builds it (front
// steps, page cache, yoga), on real loopback upstreams: what it sheds, and
// above all what it must not.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An upstream handler that answers `ms` later, as a slow service would. */
const slow =
  (handler: Handler, ms: number): Handler =>
  (req, res, url) =>
    void setTimeout(() => void handler(req, res, url), ms);

async function start(
  env: Record<string, string> = {},
  handlers: Partial<Record<ServiceName, Handler>> = {},
) {
  const upstreams = await startUpstreams(handlers);
  const built: BuiltServer = buildServer(loadConfig({ JWT_SECRET: TEST_SECRET, ...env }), {
    upstreamUrls: perService<PerService<string>>((service) => upstreams[service].url),
    logger: silentLogger,
  });
  cleanups.push(async () => {
    built.server.closeAllConnections();
    await new Promise((resolve) => built.server.close(resolve));
    await built.release();
    await Promise.all(Object.values(upstreams).map((upstream: Upstream) => upstream.close()));
  });
  await new Promise<void>((resolve) => built.server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(built.server.address() as AddressInfo).port}`;
  const calls = () =>
    Object.values(upstreams).reduce((sum, upstream) => sum + upstream.requests.length, 0);
  const metrics = async () => (await fetch(`${origin}/metrics`)).text();
  return { origin, calls, metrics };
}

const token = () => signToken(TEST_SECRET, 'u-42');

function page(
  origin: string,
  { authorization, query = HOMEPAGE_QUERY }: { authorization?: string; query?: string } = {},
) {
  return fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(authorization && { authorization }),
    },
    body: JSON.stringify({ query }),
  });
}

/** Keeps the loop busy (turns of `turnMs`) until the admission reads a standing wait over `overMs`. */
async function saturate(metrics: () => Promise<string>, turnMs: number, overMs: number) {
  const busy = keepLoopBusy(turnMs);
  cleanups.push(() => busy.stop());
  await vi.waitFor(
    async () => {
      const reading = /^bff_admission_standing_wait_seconds (\S+)$/m.exec(await metrics());
      expect(Number(reading?.[1]) * 1000).toBeGreaterThan(overMs);
    },
    { timeout: 10_000, interval: 50 },
  );
  return busy;
}

function expectOverloaded(response: Response) {
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe('1');
}

describe('admission by what the process can still finish in time', () => {
  it('sheds no page of 200 concurrent clients whose upstreams take 300 ms', async () => {
    // This process also runs the 200 clients and the upstreams, on a machine
    // shared with other work: a 5 s deadline (a wait target of 1 s) keeps their
    // CPU out of the question. What is tested is that 200 pages in flight,
    // each waiting 300 ms, are not refused for being many.
    const { origin, metrics } = await start(
      { REQUEST_DEADLINE_MS: '5000' },
      {
        promo: slow(promoHandler(), 300),
        recommendations: slow(recommendationsHandler(), 300),
        catalog: slow(catalogHandler(), 300),
      },
    );
    const authorization = `Bearer ${await token()}`;
    // A small page: the clients and upstreams share this process's CPU with
    // the gateway, and this test is about waiting, not about CPU.
    const query = '{ homepage { promo { id } recommendations { score } } }';
    // Warm: the first page of a kind compiles its query; not what this test is about.
    for (const options of [{ authorization, query }, { query }]) {
      await (await page(origin, options)).arrayBuffer();
    }

    const statuses = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        // Half signed in, half anonymous (all misses: none is stored before the others start).
        const response = await page(origin, i % 2 === 0 ? { authorization, query } : { query });
        await response.arrayBuffer();
        return response.status;
      }),
    );

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(await metrics()).toMatch(/^bff_requests_shed_total\{reason="standing_wait"\} 0$/m);
  });

  it('answers 503 OVERLOADED with Retry-After, calling no upstream, while the event loop never runs dry', async () => {
    // A wait target of 100 ms (a fifth of the deadline); busy turns of 160 ms.
    const { origin, calls, metrics } = await start({ REQUEST_DEADLINE_MS: '500' });
    const authorization = `Bearer ${await token()}`;
    const busy = await saturate(metrics, 160, 100);
    const callsBefore = calls();

    const signedIn = await page(origin, { authorization });
    const anonymous = await page(origin);

    expectOverloaded(signedIn);
    expect(await signedIn.json()).toEqual({
      errors: [
        { message: 'The gateway is busy; try again shortly.', extensions: { code: 'OVERLOADED' } },
      ],
    });
    expectOverloaded(anonymous);
    expect(calls()).toBe(callsBefore);
    expect(await metrics()).toMatch(/^bff_requests_shed_total\{reason="standing_wait"\} 2$/m);
    expect((await fetch(`${origin}/ready`)).status).toBe(200);

    busy.stop();
    // The wait drains with the loop: pages are served again, without a restart.
    await vi.waitFor(async () => expect((await page(origin, { authorization })).status).toBe(200), {
      timeout: 10_000,
      interval: 100,
    });
  });

  it('serves page-cache hits while it sheds misses', async () => {
    const { origin, metrics } = await start({ REQUEST_DEADLINE_MS: '500' });
    const stored = await page(origin);
    expect(stored.status).toBe(200);
    const body = await stored.text();
    await saturate(metrics, 160, 100);

    const hit = await page(origin);
    const miss = await page(origin, { query: `${HOMEPAGE_QUERY}\n# another page` });

    expect(hit.status).toBe(200);
    expect(hit.headers.get('server-timing')).toContain('cache;desc=hit');
    expect(await hit.text()).toBe(body);
    expectOverloaded(miss);
  });

  it('sheds nothing with ADMISSION=off, not even past MAX_IN_FLIGHT or with the loop saturated', async () => {
    const { origin, metrics } = await start({
      ADMISSION: 'off',
      MAX_IN_FLIGHT: '1',
      REQUEST_DEADLINE_MS: '5000',
    });
    const authorization = `Bearer ${await token()}`;
    const busy = keepLoopBusy(80);
    cleanups.push(() => busy.stop());

    const statuses = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const response = await page(origin, i % 2 === 0 ? { authorization } : {});
        await response.arrayBuffer();
        return response.status;
      }),
    );
    busy.stop();

    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const text = await metrics();
    expect(text).toMatch(/^bff_requests_shed_total\{reason="standing_wait"\} 0$/m);
    expect(text).toMatch(/^bff_requests_shed_total\{reason="in_flight"\} 0$/m);
    expect(text).toMatch(/^bff_admission_in_flight_limit 0$/m);
  });
});

describe('slow request bodies', () => {
  it('serves normal pages at MAX_IN_FLIGHT=32 while 40 sockets each send headers and one byte of their body', async () => {
    const { origin, metrics } = await start({ MAX_IN_FLIGHT: '32' });
    const { port } = new URL(origin);
    const authorization = `Bearer ${await token()}`;
    const body = JSON.stringify({ query: HOMEPAGE_QUERY });
    const sockets: Socket[] = [];
    cleanups.push(() => sockets.forEach((socket) => socket.destroy()));
    // 32 signed-in requests, which admission's own step takes (an anonymous
    // one is taken by the page cache, which reads its body before asking), and
    // 8 anonymous ones.
    for (let i = 0; i < 40; i++) {
      const socket = connect(Number(port), '127.0.0.1');
      sockets.push(socket);
      socket.on('error', () => {});
      await once(socket, 'connect');
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
          (i < 32 ? `Authorization: ${authorization}\r\n` : '') +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 1)}`,
      );
    }
    // Every slow request has reached the server and a front step.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const answers = await Promise.all([
      page(origin, { authorization }),
      page(origin),
      page(origin, { authorization }),
      page(origin, { query: `${HOMEPAGE_QUERY}\n# another page` }),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(await metrics()).toMatch(/^bff_requests_shed_total\{reason="in_flight"\} 0$/m);
  });
});
