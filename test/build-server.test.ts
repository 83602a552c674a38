import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { signToken } from '../src/auth.js';
import { buildServer, type BuiltServer } from '../src/build-server.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { perService, type PerService } from '../src/upstreams/services.js';
import { HOMEPAGE_QUERY, startUpstreams, TEST_SECRET } from './helpers/gateway.js';
import { PROMOTIONS } from './helpers/fixtures.js';
import type { Upstream } from './helpers/upstream.js';

// The composition root, built in process exactly as main.ts builds it: front
// steps and yoga, from a configuration read like the environment.

const running: Array<{ built: BuiltServer; upstreams: PerService<Upstream> }> = [];
afterEach(async () => {
  for (const { built, upstreams } of running.splice(0)) {
    built.server.closeAllConnections();
    await new Promise((resolve) => built.server.close(resolve));
    await built.release();
    await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
  }
});

async function start(env: Record<string, string> = {}) {
  const upstreams = await startUpstreams();
  const config = loadConfig({ JWT_SECRET: TEST_SECRET, ...env });
  const built = buildServer(config, {
    upstreamUrls: perService<PerService<string>>((service) => upstreams[service].url),
    logger: silentLogger,
  });
  running.push({ built, upstreams });
  await new Promise<void>((resolve) => built.server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(built.server.address() as AddressInfo).port}`;
  const calls = () =>
    Object.values(upstreams).reduce((sum, upstream) => sum + upstream.requests.length, 0);
  return { origin, calls };
}

const page = (origin: string, headers: Record<string, string> = {}) =>
  fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query: HOMEPAGE_QUERY }),
  });

describe('the whole server, built in process', () => {
  it("serves a signed-in page with the viewer's own picks through the front steps and yoga", async () => {
    const { origin } = await start();
    const response = await page(origin, {
      authorization: `Bearer ${await signToken(TEST_SECRET, 'u-42')}`,
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.errors).toBeUndefined();
    expect(body.data.homepage.promo).toHaveLength(PROMOTIONS.length);
    expect(body.data.homepage.recommendations).toEqual([
      expect.objectContaining({
        reason: 'Picked for u-42',
        book: expect.objectContaining({ id: 'b-u-42' }),
      }),
    ]);
  });

  it('answers a repeated anonymous page from its page cache, a front step', async () => {
    const { origin, calls } = await start();
    const first = await page(origin);
    expect(first.status).toBe(200);
    const firstBody = await first.text();
    const callsAfterFirst = calls();
    expect(callsAfterFirst).toBeGreaterThan(0);
    const second = await page(origin);
    expect(await second.text()).toBe(firstBody);
    expect(calls()).toBe(callsAfterFirst);
  });

  it('serves its probes and metrics', async () => {
    const { origin } = await start();
    expect((await fetch(`${origin}/health`)).status).toBe(200);
    expect((await fetch(`${origin}/ready`)).status).toBe(200);
    expect(await (await fetch(`${origin}/metrics`)).text()).toContain('bff_');
  });
});
