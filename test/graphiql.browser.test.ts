import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { DEMO_JWT_SECRET } from '../src/demo/settings.js';
import { startDemoServices, type DemoServices } from '../src/demo/services.js';
import { testGatewayOptions } from './helpers/gateway.js';
import { launchChromium } from './helpers/browser.js';

let demo: DemoServices;
let server: Server;
let browser: Browser;
let url: string;

beforeAll(async () => {
  demo = await startDemoServices(loadConfig({}).demo);
  const gateway = createGateway({
    ...testGatewayOptions(demo.urls, {
      timeoutsMs: { promo: 2000, recommendations: 2000, catalog: 2000 },
    }),
    auth: { secret: DEMO_JWT_SECRET, jwksUrl: null, issuer: undefined, audience: undefined },
  });
  server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await demo?.close();
});

describe('GraphiQL in a real browser', () => {
  it(
    'opens with the example query, runs it and shows promo and recommendations',
    { timeout: 60_000 },
    async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 4000 } });
      const failedRequests: string[] = [];
      page.on('requestfailed', (request) => failedRequests.push(request.url()));

      await page.goto(url);
      const runButton = page.locator('.graphiql-execute-button');
      await runButton.waitFor({ timeout: 20_000 });
      await expect
        .poll(() => page.locator('.graphiql-query-editor').innerText())
        .toContain('homepage');

      const answered = page.waitForResponse(
        (response) =>
          response.url() === url &&
          response.request().method() === 'POST' &&
          /query Homepage/.test(response.request().postData() ?? ''),
      );
      await runButton.click();
      expect((await answered).status()).toBe(200);

      const pane = page.locator('.graphiql-response');
      await expect
        .poll(() => pane.innerText(), { timeout: 10_000 })
        .toContain('promo-winter-reads');
      // Monaco renders spaces as no-break spaces.
      const text = (await pane.innerText()).replace(/\u00a0/g, ' ');
      expect(text).toContain('"recommendations"');
      expect(text).toMatch(/"score": 0\.\d+/);
      expect(text).not.toContain('"errors"');
      await page.screenshot({ path: 'test/__screenshots__/graphiql.png' }).catch(() => {});
      // Everything GraphiQL needs is served by the gateway itself: no CDN.
      expect(failedRequests).toEqual([]);
    },
  );
});
