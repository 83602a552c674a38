import { request as httpRequest } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createOriginPolicy } from '../src/inbound/cors-origins.js';
import { HOMEPAGE_QUERY, useTestBeds } from './helpers/gateway.js';
import { useListening } from './helpers/listening.js';
import { heldRecommendations } from './helpers/held-upstream.js';
import { POPULAR } from './helpers/fixtures.js';

const startBed = useTestBeds();
const listen = useListening();
const jsonPost = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** A raw request: status, headers and the body bytes as sent (nothing decoded). */
function raw(
  url: string,
  {
    method = 'GET',
    headers = {},
    body,
  }: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('compression', () => {
  // The fixtures' home page is about 900 bytes: under the 1 KB default.
  const compressionMinBytes = 512;
  const homepage = (acceptEncoding: string) => ({
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'accept-encoding': acceptEncoding,
    },
    body: JSON.stringify({ query: HOMEPAGE_QUERY }),
  });

  it.each([
    ['br', 'br', brotliDecompressSync],
    ['gzip, deflate, br', 'br', brotliDecompressSync],
    ['gzip', 'gzip', gunzipSync],
    ['br;q=0.5, gzip;q=1', 'gzip', gunzipSync],
  ] as const)('answers Accept-Encoding %s with %s', async (accepted, encoding, decode) => {
    const bed = await startBed({ compressionMinBytes });
    const { url } = await listen(bed.gateway);
    const answer = await raw(url, homepage(accepted));

    expect(answer.headers['content-encoding']).toBe(encoding);
    expect(answer.headers.vary).toContain('Accept-Encoding');
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
    const page = JSON.parse(decode(answer.body).toString()) as { data: { homepage: unknown } };
    expect(page.data.homepage).toBeTruthy();
    expect(answer.body.length).toBeLessThan(decode(answer.body).length / 2);
  });

  it('sends small answers and clients that ask for none as they are', async () => {
    const bed = await startBed({ compressionMinBytes });
    const { url } = await listen(bed.gateway);
    const small = await raw(url, {
      ...homepage('gzip, br'),
      body: JSON.stringify({ query: '{ homepage { promo { id } } }' }),
    });
    const identity = await raw(url, homepage('identity'));

    expect(small.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(small.body.toString()).data.homepage.promo).toHaveLength(2);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(identity.body.toString()).data.homepage).toBeTruthy();
  });

  it('is decoded by fetch (undici), gzip and brotli alike', async () => {
    const bed = await startBed({ compressionMinBytes });
    const { url } = await listen(bed.gateway);
    for (const encoding of ['gzip', 'br']) {
      const response = await fetch(url, homepage(encoding));
      expect(response.headers.get('content-encoding')).toBe(encoding);
      const page = (await response.json()) as {
        data: { homepage: { recommendations: unknown[] } };
      };
      expect(page.data.homepage.recommendations).toHaveLength(POPULAR.length);
    }
  });

  it("compresses GraphiQL's page, several MB, the same bytes each time", async () => {
    const bed = await startBed({ security: { graphiql: true } });
    const { url } = await listen(bed.gateway);
    const page = { headers: { accept: 'text/html', 'accept-encoding': 'br' } };
    const first = await raw(url, page);
    const second = await raw(url, page);

    expect(first.headers['content-encoding']).toBe('br');
    const html = brotliDecompressSync(first.body).toString();
    expect(html).toContain('<title>Bookshop homepage BFF</title>');
    expect(first.body.length).toBeLessThan(html.length / 3);
    expect(second.body.equals(first.body)).toBe(true);
  });

  it('leaves @defer parts uncompressed, the first one readable before the deferred upstream answers', async () => {
    const { handler, release } = heldRecommendations();
    const bed = await startBed({ handlers: { recommendations: handler } });
    const { url } = await listen(bed.gateway);
    const query = `{ homepage { promo { id title imageUrl link startsAt endsAt } ... @defer { recommendations { score } } } }`;
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'multipart/mixed',
        'accept-encoding': 'gzip, br',
      },
      body: JSON.stringify({ query }),
    });
    expect(response.headers.get('content-type')).toMatch(/^multipart\/mixed/);
    expect(response.headers.get('content-encoding')).toBeNull();
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('"promo"')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).not.toContain('recommendations');
    release();
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      text += new TextDecoder().decode(part.value);
    }
    expect(text).toContain('recommendations');
  });
});

describe('which origins CORS allows', () => {
  it.each([
    [['https://shop.example.com'], 'https://shop.example.com', { credentials: true }],
    [['https://shop.example.com'], 'https://evil.example.com', null],
    [['https://*.example.com'], 'https://a.b.example.com', { credentials: true }],
    [['https://*.example.com'], 'https://example.com', null],
    [['https://*.example.com'], 'http://a.example.com', null],
    [['https://*.example.com'], 'https://a.example.com.evil.net', null],
    [['https://*.example.com'], 'https://evil.net/.example.com', null],
    [['*'], 'https://anything.test', { credentials: false }],
    [[], 'https://shop.example.com', null],
  ])('%j: %s → %j', (entries, origin, expected) => {
    const grant = createOriginPolicy(entries)(origin);
    expect(grant === null ? null : { credentials: grant.credentials }).toEqual(expected);
  });
});

describe('CORS', () => {
  const preflight = (origin: string): RequestInit & { path: string } => ({
    path: '/graphql',
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, authorization',
    },
  });

  it('answers a preflight from an allowed origin, cacheable, and exposes the request id and timings', async () => {
    const bed = await startBed({ security: { corsOrigins: ['https://shop.example.com'] } });
    const { status, headers } = await bed.request(preflight('https://shop.example.com'));
    expect(status).toBe(204);
    expect(headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    expect(headers.get('access-control-allow-credentials')).toBe('true');
    expect(headers.get('access-control-allow-headers')).toBe('content-type, authorization');
    expect(Number(headers.get('access-control-max-age'))).toBeGreaterThan(0);

    const answer = await bed.request({
      ...jsonPost({ query: '{ homepage { promo { id } } }' }),
      headers: { 'content-type': 'application/json', origin: 'https://shop.example.com' },
    });
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    expect(answer.headers.get('access-control-expose-headers')).toBe('x-request-id, server-timing');
    expect(answer.headers.get('timing-allow-origin')).toBe('https://shop.example.com');
    expect(answer.headers.get('vary')).toContain('Origin');
  });

  it('gives a refused origin no CORS header, preflight or not', async () => {
    const bed = await startBed({ security: { corsOrigins: ['https://shop.example.com'] } });
    const refused = await bed.request(preflight('https://evil.example.com'));
    expect(refused.status).toBe(204);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('access-control-allow-methods')).toBeNull();

    const answer = await bed.request({
      ...jsonPost({ query: '{ homepage { promo { id } } }' }),
      headers: { 'content-type': 'application/json', origin: 'https://evil.example.com' },
    });
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(answer.headers.get('timing-allow-origin')).toBeNull();
  });

  it('defaults to no cross-origin access in production, and any origin without credentials otherwise', async () => {
    const { loadConfig } = await import('../src/config.js');
    expect(loadConfig({ NODE_ENV: 'production' }).security.corsOrigins).toEqual([]);
    expect(loadConfig({}).security.corsOrigins).toEqual(['*']);
    const bed = await startBed({ security: { corsOrigins: ['*'] } });
    const { headers } = await bed.request(preflight('https://anywhere.test'));
    expect(headers.get('access-control-allow-origin')).toBe('https://anywhere.test');
    expect(headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('refuses a malformed CORS_ORIGINS entry at startup', async () => {
    const { loadConfig } = await import('../src/config.js');
    expect(() => loadConfig({ CORS_ORIGINS: 'https://shop.example.com/path' })).toThrow(
      'CORS_ORIGINS',
    );
    expect(
      loadConfig({ CORS_ORIGINS: 'https://a.test, https://*.b.test' }).security.corsOrigins,
    ).toEqual(['https://a.test', 'https://*.b.test']);
  });
});

describe('CSRF prevention', () => {
  const PROMO = '{ homepage { promo { id } } }';
  const get = (headers: Record<string, string> = {}): RequestInit & { path: string } => ({
    path: `/graphql?query=${encodeURIComponent(PROMO)}`,
    method: 'GET',
    headers: { accept: 'application/json', ...headers },
  });

  it.each([
    ['apollo-require-preflight', { 'apollo-require-preflight': 'true' }],
    ['x-apollo-operation-name', { 'x-apollo-operation-name': 'Promos' }],
    ['graphql-preflight', { 'graphql-preflight': '1' }],
    ['x-graphql-yoga-csrf', { 'x-graphql-yoga-csrf': '1' }],
    [
      'a JSON content type (Apollo Client sends it on GET too)',
      { 'content-type': 'application/json' },
    ],
  ])('accepts a GET with %s', async (_, headers) => {
    const bed = await startBed({ security: { csrfPrevention: true } });
    const { status, body } = await bed.request(get(headers));
    expect(status).toBe(200);
    expect(body.data?.homepage.promo).toHaveLength(2);
  });

  it.each([
    ['a GET with no preflight header', get()],
    [
      'a text/plain POST (what a cross-site form can send)',
      {
        path: '/graphql',
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ query: PROMO }),
      },
    ],
  ])('refuses %s with a coded 403 and calls no upstream', async (_, init) => {
    const bed = await startBed({ security: { csrfPrevention: true } });
    const { status, body } = await bed.request(init);
    expect(status).toBe(403);
    expect(body.errors?.[0]?.extensions?.code).toBe('CSRF_PREVENTED');
    expect(body.errors?.[0]?.message).toContain('apollo-require-preflight');
    expect(bed.upstreams.promo.requests).toHaveLength(0);
  });
});

describe('graphql-sse single connection mode', () => {
  it('refuses the reservation PUT with a code naming the mode that works', async () => {
    const bed = await startBed();
    const { status, headers, body } = await bed.request({
      method: 'PUT',
      headers: { accept: 'text/plain' },
    });
    expect(status).toBe(405);
    expect(headers.get('allow')).toBe('GET, POST');
    expect(body.errors?.[0]?.extensions?.code).toBe('SSE_SINGLE_CONNECTION_UNSUPPORTED');
    expect(body.errors?.[0]?.message).toContain('distinct connections mode');
  });
});
