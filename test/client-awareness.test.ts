import { describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../src/logger.js';
import { clientOf, createClientLabels } from '../src/observability/client-awareness.js';
import { useTestBeds } from './helpers/gateway.js';

const startBed = useTestBeds();

type Line = Record<string, unknown>;
function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  return { ...silentLogger, info: (line) => lines.push(line as Line), lines };
}
const PROMO = '{ homepage { promo { id } } }';
const post = (body: string, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json',
    ...headers,
  },
  body,
});

describe('client awareness', () => {
  it.each([
    [
      { 'apollographql-client-name': 'web', 'apollographql-client-version': '1.2.3' },
      { name: 'web', version: '1.2.3' },
    ],
    [
      { 'graphql-client-name': 'ios', 'graphql-client-version': '7.0' },
      { name: 'ios', version: '7.0' },
    ],
    [{ 'apollographql-client-name': 'android' }, { name: 'android', version: undefined }],
    [{ 'graphql-client-version': '1' }, undefined],
    [{ 'apollographql-client-name': 'we b"x"' }, { name: 'we_b_x_', version: undefined }],
  ])('reads %j as %j', (headers, expected) => {
    expect(clientOf(new Headers(headers))).toEqual(expected);
  });

  it('keeps the first names as labels and counts later ones as other', () => {
    const labels = createClientLabels({ maxNames: 2 });
    const of = (name: string, version = '1') => labels({ name, version }).client;
    expect([of('web'), of('ios'), of('android'), of('web', '2'), of('ios')]).toEqual([
      'web',
      'ios',
      'other',
      'web',
      'ios',
    ]);
    expect(labels(undefined)).toEqual({ client: 'none', version: 'none' });
  });

  it('logs and counts requests by client name and version', async () => {
    const logger = recordingLogger();
    const bed = await startBed({ logger });
    await bed.request(
      post(JSON.stringify({ query: PROMO }), {
        'apollographql-client-name': 'web',
        'apollographql-client-version': '4.2.0',
      }),
    );
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ status: 200, client: 'web', clientVersion: '4.2.0' }),
    );
    const text = await (await bed.gateway.fetch('http://gateway.test/metrics')).text();
    expect(text).toMatch(
      /bff_http_requests_total\{client="web",client_version="4.2.0",status="200"\} 1/,
    );
  });
});

describe('request log', () => {
  it.each([
    [
      'a syntax error',
      post(JSON.stringify({ query: '{ homepage {' })),
      400,
      'GRAPHQL_PARSE_FAILED',
    ],
    [
      'a body without Content-Length',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start: (c) => {
            c.enqueue(new TextEncoder().encode('{}'));
            c.close();
          },
        }),
        duplex: 'half',
      } as RequestInit,
      411,
      'BAD_REQUEST',
    ],
    [
      'an oversized body',
      post(JSON.stringify({ query: PROMO, pad: 'x'.repeat(70_000) })),
      413,
      'BAD_REQUEST',
    ],
    [
      'an invalid token',
      post(JSON.stringify({ query: PROMO }), { authorization: 'Bearer nope' }),
      401,
      'UNAUTHENTICATED',
    ],
    ['a missing CSRF header', { method: 'GET' }, 403, 'CSRF_PREVENTED'],
    [
      'a persisted query miss',
      post(
        JSON.stringify({
          extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } },
        }),
      ),
      200,
      'PERSISTED_QUERY_NOT_FOUND',
    ],
  ])('logs a request refused for %s once, with status and code', async (_, init, status, code) => {
    const logger = recordingLogger();
    const bed = await startBed({ logger, security: { csrfPrevention: true } });
    const answer = await bed.request(init);
    expect(answer.status).toBe(status);

    const lines = logger.lines.filter((line) => line.msg === 'graphql request');
    expect(lines).toEqual([
      expect.objectContaining({
        requestId: answer.headers.get('x-request-id'),
        path: '/graphql',
        status,
        code,
      }),
    ]);
  });
});
