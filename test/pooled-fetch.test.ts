import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createPooledFetch,
  type PooledFetch,
  type PooledFetchInit,
  type PooledFetchOptions,
} from '../src/outbound/pooled-fetch.js';
import { silentLogger } from '../src/logger.js';
import { RequestRecord, silentSink } from '../src/observability/request-record.js';
import { createUpstreamClient } from '../src/outbound/upstream-client.js';
import { SHARED_POLICY } from '../src/upstreams/policy.js';
import { startUpstream, type Handler, type Upstream } from './helpers/upstream.js';

// The transport under ky: a real loopback server on the other end of every test.

const open: Array<Upstream | PooledFetch> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((each) => each.close()));
});

async function setUp(handler: Handler, options: PooledFetchOptions = {}) {
  const upstream = await startUpstream(handler);
  const pooled = createPooledFetch(upstream.url, options);
  open.push(pooled, upstream);
  return { upstream, fetch: pooled.fetch };
}

const json =
  (body: unknown): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
    res.end(JSON.stringify(body));
  };

describe('pooled fetch', () => {
  it('sends the method, path, query and headers, and returns status, headers and body', async () => {
    const { upstream, fetch } = await setUp(json({ ok: true }));

    const response = await fetch(`${upstream.url}/books?ids=b-1,b-2`, {
      headers: { accept: 'application/json', 'x-request-id': 'r-1' },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ ok: true });
    const [request] = upstream.requests;
    expect(request?.method).toBe('GET');
    expect(request?.url.search).toBe('?ids=b-1,b-2');
    expect(request?.headers['x-request-id']).toBe('r-1');
  });

  it('reuses kept-alive connections for calls made one after another', async () => {
    const { upstream, fetch } = await setUp(json({ ok: true }));

    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${upstream.url}/x`);
      await response.text();
    }

    expect(upstream.requests).toHaveLength(20);
    // undici may open a second socket while the first is finishing its response;
    // without keep-alive this would be 20.
    expect(upstream.connections).toBeLessThanOrEqual(2);
  });

  it('answers 204 with a null body', async () => {
    const { upstream, fetch } = await setUp((_req, res) => {
      res.writeHead(204);
      res.end();
    });

    const response = await fetch(`${upstream.url}/x`);

    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it('does not follow a redirect', async () => {
    const { upstream, fetch } = await setUp((_req, res) => {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    });

    const response = await fetch(`${upstream.url}/x`);

    expect(response.status).toBe(302);
    expect(upstream.requests).toHaveLength(1);
  });

  it('refuses a URL on another origin instead of sending it there', async () => {
    const { fetch } = await setUp(json({}));

    await expect(fetch('http://127.0.0.1:1/x')).rejects.toThrow(/cannot send to/);
  });

  it('rejects when the signal aborts while the server hangs', async () => {
    const { upstream, fetch } = await setUp(() => {});
    const controller = new AbortController();

    const pending = fetch(`${upstream.url}/x`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);

    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('sends 300 calls at once by default: pages waiting on a slow service do not queue here for a socket', async () => {
    // The upstream answers nobody until all 300 are in: with fewer sockets than
    // calls, the rest would wait here forever (128 was once the default).
    const held: Array<() => void> = [];
    const { upstream, fetch } = await setUp((_req, res) => {
      held.push(() => res.end('{}'));
      if (held.length === 300) for (const release of held) release();
    });

    const answers = Promise.all(
      Array.from({ length: 300 }, async (_, i) => (await fetch(`${upstream.url}/${i}`)).text()),
    );
    await vi.waitFor(() => expect(upstream.requests).toHaveLength(300), { timeout: 5000 });

    expect((await answers).every((text) => text === '{}')).toBe(true);
    expect(upstream.connections).toBe(300);
  });

  it("keeps an upstream client to its policy's sockets (<SERVICE>_MAX_CONNECTIONS)", async () => {
    const upstream = await startUpstream(json({ ok: true }));
    open.push(upstream);
    const client = createUpstreamClient({
      service: 'promo',
      baseUrl: upstream.url,
      policy: { ...SHARED_POLICY, timeoutMs: 5000, maxConnections: 1 },
      logger: silentLogger,
    });
    const record = RequestRecord.detached({ deadlineMs: 30_000, metrics: silentSink });

    await Promise.all(Array.from({ length: 5 }, () => client.getJson('promotions', { record })));

    expect(upstream.requests).toHaveLength(5);
    expect(upstream.connections).toBe(1); // one after another, on the one socket
  });

  it('fails a call waiting for a socket as soon as its signal aborts, and never sends it', async () => {
    const held: Array<() => void> = [];
    const { upstream, fetch } = await setUp((_req, res) => void held.push(() => res.end('{}')), {
      connections: 1,
    });
    const first = fetch(`${upstream.url}/first`);
    await vi.waitFor(() => expect(held).toHaveLength(1));
    const waiting = new AbortController();
    const second = fetch(`${upstream.url}/second`, { signal: waiting.signal });

    waiting.abort(new DOMException('over budget', 'TimeoutError'));

    await expect(second).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(held).toHaveLength(1); // The first call still holds the only socket.
    held[0]?.();
    expect(await (await first).text()).toBe('{}');
    const third = fetch(`${upstream.url}/third`);
    await vi.waitFor(() => expect(held).toHaveLength(2));
    held[1]?.();
    expect(await (await third).text()).toBe('{}');
    expect(upstream.requests.map((request) => request.path)).toEqual(['/first', '/third']);
  });

  it("cancels by the callSignal given beside a Request, whose own signal never aborts (ky's way)", async () => {
    const held: Array<() => void> = [];
    const { upstream, fetch } = await setUp((_req, res) => void held.push(() => res.end('{}')));
    const call = new AbortController();
    const kys = new AbortController(); // ky's own: nobody aborts it
    const request = new Request(`${upstream.url}/slow`, { signal: kys.signal });
    const answer = (fetch as (input: Request, init: PooledFetchInit) => Promise<Response>)(
      request,
      { callSignal: call.signal },
    );
    await vi.waitFor(() => expect(held).toHaveLength(1));

    call.abort(new DOMException('over budget', 'TimeoutError'));

    await expect(answer).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(kys.signal.aborted).toBe(false);
  });

  it('frees the connection when a body is cancelled half-read, so the next call goes through', async () => {
    const { upstream, fetch } = await setUp((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"part":"'); // and never ends
    });

    const first = await fetch(`${upstream.url}/x`);
    const reader = first.body!.getReader();
    await reader.read();
    await reader.cancel();

    const second = await fetch(`${upstream.url}/x`);
    expect(second.status).toBe(200);
    expect(upstream.requests).toHaveLength(2);
    await second.body?.cancel();
  });
});
