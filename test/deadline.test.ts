import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BUDGET_HEADER } from '../src/outbound/upstream-client.js';
import { POPULAR } from './helpers/fixtures.js';
import { HOMEPAGE_QUERY, useTestBeds, type TestBed } from './helpers/gateway.js';
import { sendJson } from './helpers/upstream.js';

const startBed = useTestBeds();

const generous = { promo: 10_000, recommendations: 10_000, catalog: 10_000 };

describe('request deadline', () => {
  it('answers at the deadline with what resolved: a hanging upstream times out even with a long own timeout', async () => {
    const bed = await startBed({
      timeoutsMs: generous,
      requestDeadlineMs: 300,
      handlers: { promo: () => {} },
    });
    const { status, body } = await bed.query(HOMEPAGE_QUERY);

    expect(status).toBe(200);
    expect(body.data?.homepage.promo).toBeNull();
    expect(body.data?.homepage.recommendations).toHaveLength(POPULAR.length);
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ['homepage', 'promo'],
        extensions: { code: 'UPSTREAM_TIMEOUT', service: 'promo' },
      }),
    ]);
  });

  it('tells each upstream its budget: the lesser of its own timeout and the time left', async () => {
    const bed = await startBed({
      timeoutsMs: { promo: 200, recommendations: 10_000, catalog: 10_000 },
      requestDeadlineMs: 1000,
      handlers: {
        // The catalog is called only after recommendations answered, 150 ms in.
        recommendations: (_req, res) => {
          setTimeout(() => sendJson(res, { items: POPULAR }), 150);
        },
      },
    });
    const { body } = await bed.query(
      '{ homepage { promo { id } recommendations { book { id } } } }',
    );
    expect(body.errors).toBeUndefined();

    const budget = (requests: TestBed['upstreams']['promo']['requests']) =>
      requests.map((r) => Number(r.headers[BUDGET_HEADER]));
    expect(budget(bed.upstreams.promo.requests)).toEqual([200]);
    const [recommendations] = budget(bed.upstreams.recommendations.requests);
    expect(recommendations).toBeGreaterThan(0);
    expect(recommendations).toBeLessThanOrEqual(1000);
    const [catalog] = budget(bed.upstreams.catalog.requests);
    expect(catalog).toBeGreaterThan(0);
    expect(catalog).toBeLessThanOrEqual(1000 - 150);
  });

  it('cancels upstream calls when the client disconnects', async () => {
    let upstreamSawClose!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamSawClose = resolve));
    let arrived!: () => void;
    const promoArrived = new Promise<void>((resolve) => (arrived = resolve));
    const bed = await startBed({
      timeoutsMs: generous,
      requestDeadlineMs: 20_000,
      handlers: {
        promo: (req) => {
          req.socket.on('close', () => upstreamSawClose());
          arrived();
        },
      },
    });
    const server = createServer(bed.gateway);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new AbortController();
    const request = fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ homepage { promo { id } } }' }),
      signal: client.signal,
    }).catch(() => 'aborted');

    await promoArrived;
    client.abort();
    expect(await request).toBe('aborted');
    // Resolves only if the gateway dropped its connection to the hanging upstream.
    await closed;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});
