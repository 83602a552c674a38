import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { signToken } from '../src/auth.js';
import type { Logger } from '../src/logger.js';
import { documentId } from '../src/trusted-documents.js';
import { useBuiltServers } from './helpers/built-server.js';
import { recommendationsHandler } from './helpers/fixtures.js';
import { HOMEPAGE_QUERY, TEST_SECRET } from './helpers/gateway.js';
import { rawRequest } from './helpers/raw-http.js';

// What a hostile client tried against a production build (issue 22), each as a
// regression test through the whole server on a real socket.

const start = useBuiltServers();
// No shedding on event-loop delay: a busy test machine must not turn a page into a 503.
const PRODUCTION = { NODE_ENV: 'production' };
const body = JSON.stringify({ query: HOMEPAGE_QUERY });
const jsonPost = (target: string, extra = '') =>
  `POST ${target} HTTP/1.1\nHost: gateway.test\nContent-Type: application/json\nAccept: application/json${extra}`;

/** A logger that keeps every line with its level. */
function recordingLogger() {
  const lines: Array<{ level: string; text: string }> = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      lines.push({ level, text: args.map(String).join(' ') });
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { logger, lines };
}

/** A body that says nothing of our internals. */
function expectNoInternals(text: string) {
  expect(text).not.toMatch(/node_modules|\n\s+at |SyntaxError|originalError|stack/);
}

describe('only the paths the gateway serves are served', () => {
  it('never runs GraphQL for a path variant once the anonymous limit is used up', async () => {
    const server = await start({ ...PRODUCTION, RATE_LIMIT_PER_MINUTE: '2' });
    for (let i = 0; i < 2; i++) {
      expect((await rawRequest(server.port, jsonPost('/graphql'), body)).status).toBe(200);
    }
    const calls = server.upstreamCalls();
    const variants = ['/graphql/', '/x/graphql', '/./graphql', '//graphql', '/%67raphql'];
    for (const target of variants) {
      const answer = await rawRequest(server.port, jsonPost(target), body);
      expect(answer.status, target).toBe(404);
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('NOT_FOUND');
    }
    // Absolute-form is /graphql itself: limited like it.
    const absolute = await rawRequest(server.port, jsonPost('http://x/graphql'), body);
    expect(absolute.status).toBe(429);
    for (const target of ['/metrics?/graphql', '/health?x=/graphql', '/ready?x=/graphql']) {
      const answer = await rawRequest(server.port, jsonPost(target), body);
      expect(answer.body, target).not.toContain('"data"');
    }
    expect(server.upstreamCalls()).toBe(calls);
  });

  it('answers a probe with a query string ending in /graphql as the probe, with no upstream call', async () => {
    // These skipped shedding while yoga ran GraphQL for them (issue 22 B).
    const server = await start({ ...PRODUCTION, MAX_IN_FLIGHT: '1' });
    const answers = await Promise.all(
      ['/health?x=/graphql', '/ready?x=/graphql'].map((target) =>
        rawRequest(server.port, jsonPost(target), body),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('');
    }
    expect(server.upstreamCalls()).toBe(0);
  });

  it('runs GraphQL for /graphql whatever its query string ends with', async () => {
    const server = await start(PRODUCTION);
    const answer = await rawRequest(server.port, jsonPost('/graphql?x=/health'), body);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).data.homepage).toBeTruthy();
  });

  it('serves metrics on their own port in production, and 404 on the main one', async () => {
    const server = await start(PRODUCTION);
    const main = await fetch(`${server.origin}/metrics`);
    expect(main.status).toBe(404);
    expect((await main.json()).errors[0].extensions.code).toBe('NOT_FOUND');
    expect(await (await fetch(`${server.metricsOrigin}/metrics`)).text()).toContain('bff_');
    expect((await fetch(`${server.metricsOrigin}/graphql`)).status).toBe(404);
  });
});

describe('no internals in any answer, and no error-level logs on demand', () => {
  it('refuses a Host that makes no URL with 400 BAD_REQUEST, without a stack', async () => {
    const { logger, lines } = recordingLogger();
    const server = await start(PRODUCTION, { logger });
    const answer = await rawRequest(
      server.port,
      'POST /graphql HTTP/1.1\nHost: [::\nContent-Type: application/json',
      body,
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('BAD_REQUEST');
    expectNoInternals(answer.body);
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    expect(lines.filter((line) => line.level === 'info')).toHaveLength(1);
  });

  it('refuses a malformed JSON body with 400 BAD_REQUEST, echoing neither parser nor body', async () => {
    const { logger, lines } = recordingLogger();
    const server = await start(PRODUCTION, { logger });
    const answer = await rawRequest(server.port, jsonPost('/graphql'), '{"query": "secret-bod');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('BAD_REQUEST');
    expectNoInternals(answer.body);
    expect(answer.body).not.toContain('secret-bod');
    expect(lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
  });

  it('refuses malformed variables on a GET with 400 BAD_REQUEST, logging once at info', async () => {
    const { logger, lines } = recordingLogger();
    const server = await start(PRODUCTION, { logger });
    const answer = await rawRequest(
      server.port,
      'GET /graphql?query=%7B__typename%7D&variables=%7Bbad HTTP/1.1\nHost: gateway.test\nAccept: application/json\ngraphql-preflight: 1',
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('BAD_REQUEST');
    expectNoInternals(answer.body);
    expect(lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
    expect(lines.filter((line) => line.level === 'info')).toHaveLength(1);
  });
});

describe('a client abandoning its body', () => {
  it('is logged at debug, never at error', async () => {
    const { logger, lines } = recordingLogger();
    // Settles on the server's word about this request, at whatever level.
    let heard: () => void = () => {};
    const logged = new Promise<void>((resolve) => (heard = resolve));
    const listening =
      (log: Logger['debug']) =>
      (message: unknown, ...rest: unknown[]) => {
        log(message, ...rest);
        if (/went away|Front step failed/.test(String(message))) heard();
      };
    const server = await start(PRODUCTION, {
      logger: { ...logger, debug: listening(logger.debug), error: listening(logger.error) },
    });
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: gateway.test\r\nContent-Type: application/json\r\nContent-Length: 41\r\n\r\n{',
    );
    // Once the server has the headers (the request is in a front step), go away.
    setTimeout(() => socket.destroy(), 50);
    await logged;
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    expect(lines.some((line) => line.level === 'debug' && /went away/.test(line.text))).toBe(true);
  });
});

describe('CSRF decisions and the page cache read what yoga parses', () => {
  const form = 'query=%7B__typename%7D';
  const formPost = (extra = '') =>
    `POST /graphql HTTP/1.1\nHost: gateway.test\nAccept: application/json\nContent-Type: application/x-www-form-urlencoded${extra}`;

  it('refuses a form POST with a second, JSON Content-Type, and never serves it to a plain form', async () => {
    const server = await start(PRODUCTION);
    const twoTypes = await rawRequest(
      server.port,
      formPost('\nContent-Type: application/json'),
      form,
    );
    expect(twoTypes.status).toBe(403);
    expect(JSON.parse(twoTypes.body).errors[0].extensions.code).toBe('CSRF_PREVENTED');
    const plain = await rawRequest(server.port, formPost(), form);
    expect(plain.status).toBe(403);
  });

  it('never caches a request whose key headers come twice', async () => {
    const server = await start(PRODUCTION);
    const twice = jsonPost('/graphql', '\nOrigin: https://a.example\nOrigin: https://b.example');
    expect((await rawRequest(server.port, twice, body)).status).toBe(200);
    const calls = server.upstreamCalls();
    const again = await rawRequest(server.port, twice, body);
    expect(again.status).toBe(200);
    expect(again.head).not.toMatch(/cache-control: public/i);
    expect(server.upstreamCalls()).toBeGreaterThan(calls);
  });
});

describe('upstream paths built from a token', () => {
  /** A production server whose recommendations upstream records each raw request target. */
  async function startRecordingPaths() {
    const raw: string[] = [];
    const handler = recommendationsHandler();
    const server = await start(PRODUCTION, {
      handlers: {
        recommendations: (req, res, url) => {
          raw.push(req.url ?? '');
          return handler(req, res, url);
        },
      },
    });
    return { raw, server };
  }

  it.each([
    ['/', '/users/%2F/recommendations'],
    ['%2F', '/users/%252F/recommendations'],
    ['a/../../x', '/users/a%2F..%2F..%2Fx/recommendations'],
  ])('sends user id %s as one encoded segment: %s', async (userId, expected) => {
    const { raw, server } = await startRecordingPaths();
    const token = await signToken(TEST_SECRET, userId);
    await rawRequest(server.port, jsonPost('/graphql', `\nAuthorization: Bearer ${token}`), body);
    expect(raw.map((url) => url.split('?')[0])).toEqual([expected]);
  });

  it.each(['.', '..'])('never turns user id %s into another upstream path', async (userId) => {
    const { raw, server } = await startRecordingPaths();
    const token = await signToken(TEST_SECRET, userId);
    const answer = await rawRequest(
      server.port,
      jsonPost('/graphql', `\nAuthorization: Bearer ${token}`),
      body,
    );
    expect(answer.status).toBe(200);
    for (const url of raw) expect(url).toMatch(/^\/recommendations\/popular\?/);
    expect(raw.some((url) => url.startsWith('/users/') || url === '/recommendations')).toBe(false);
  });
});

describe('automatic persisted queries against a flood', () => {
  const register = (port: number, query: string, client: string) =>
    rawRequest(
      port,
      jsonPost('/graphql', `\nX-Forwarded-For: ${client}`),
      JSON.stringify({
        query,
        extensions: { persistedQuery: { version: 1, sha256Hash: documentId(query).slice(7) } },
      }),
    );
  const byHash = (port: number, query: string, client: string) =>
    rawRequest(
      port,
      jsonPost('/graphql', `\nX-Forwarded-For: ${client}`),
      JSON.stringify({
        extensions: { persistedQuery: { version: 1, sha256Hash: documentId(query).slice(7) } },
      }),
    );
  const APQ = { ...PRODUCTION, TRUSTED_PROXIES: 'loopback', PAGE_CACHE_TTL_MS: '0' };

  it('refuses to register a document over APQ_MAX_DOCUMENT_BYTES, comments included', async () => {
    const server = await start({ ...APQ, APQ_MAX_DOCUMENT_BYTES: '1024' });
    const padded = `${'# padding\n'.repeat(200)}{ __typename }`;
    const answer = await register(server.port, padded, '10.0.0.1');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('PERSISTED_QUERY_TOO_LARGE');
    const later = await byHash(server.port, padded, '10.0.0.1');
    expect(JSON.parse(later.body).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it("keeps one flooding client from spending everyone's registrations", async () => {
    const server = await start({
      ...APQ,
      APQ_REGISTRATIONS_PER_MINUTE: '5',
      APQ_REGISTRATIONS_PER_CLIENT_PER_MINUTE: '2',
    });
    for (let i = 0; i < 10; i++) {
      const answer = await register(server.port, `{ __typename } # flood ${i}`, '10.0.0.66');
      expect(answer.status).toBe(200);
    }
    const flooded = await byHash(server.port, '{ __typename } # flood 9', '10.0.0.66');
    expect(JSON.parse(flooded.body).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');

    const real = '{ __typename } # the web client';
    expect((await register(server.port, real, '10.0.0.7')).status).toBe(200);
    const served = await byHash(server.port, real, '10.0.0.7');
    expect(JSON.parse(served.body)).toEqual({ data: { __typename: 'Query' } });
  });
});
