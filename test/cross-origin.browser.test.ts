import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBeds } from './helpers/gateway.js';
import { useListening } from './helpers/listening.js';
import { launchChromium } from './helpers/browser.js';

const startBed = useTestBeds();
const listen = useListening();
let browser: Browser;
let page: Server;
let pageOrigin: string;

beforeAll(async () => {
  // The web app's origin: another port is another origin.
  page = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>shop</title>');
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  page?.closeAllConnections();
  await new Promise((resolve) => page?.close(resolve));
});

/** What a script on the shop's page can read of a GraphQL call to `url`. */
async function callFromPage(url: string) {
  const tab = await browser.newPage();
  try {
    await tab.goto(`${pageOrigin}/`);
    return await tab.evaluate(async (gateway) => {
      try {
        const response = await fetch(gateway, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ homepage { promo { id } } }' }),
        });
        await response.text();
        const entry = performance
          .getEntriesByType('resource')
          .find((resource) => resource.name === gateway) as PerformanceResourceTiming | undefined;
        return {
          status: response.status,
          requestId: response.headers.get('x-request-id'),
          serverTiming: entry?.serverTiming.map((timing) => timing.name) ?? [],
        };
      } catch (error) {
        return { failed: String(error) };
      }
    }, url);
  } finally {
    await tab.close();
  }
}

describe('a page on another origin, in a real browser', () => {
  it(
    'reads x-request-id and Server-Timing (Resource Timing) when its origin is allowed',
    { timeout: 60_000 },
    async () => {
      const bed = await startBed({ security: { corsOrigins: [pageOrigin] } });
      const { url } = await listen(bed.gateway);
      const seen = await callFromPage(url);

      expect(seen).toEqual({
        status: 200,
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        // Cross-origin, Resource Timing hides these unless Timing-Allow-Origin allows the page.
        serverTiming: expect.arrayContaining(['promo', 'total']),
      });
    },
  );

  it('cannot read the answer when its origin is not allowed', { timeout: 60_000 }, async () => {
    const bed = await startBed({ security: { corsOrigins: ['https://shop.example.com'] } });
    const { url } = await listen(bed.gateway);
    const seen = await callFromPage(url);

    expect(seen).toEqual({ failed: expect.stringContaining('Failed to fetch') });
  });
});
