import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { useTestBeds, type TestBed } from './helpers/gateway.js';

const startBed = useTestBeds();
const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const json = (body: unknown, accept = GRAPHQL_RESPONSE): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', accept },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const noUpstreamCalls = (bed: TestBed) =>
  Object.values(bed.upstreams).every((upstream) => upstream.requests.length === 0);
const PROMO = '{ homepage { promo { id } } }';
/** A POST of the promo query as a stream: no Content-Length unless `headers` sets one. */
const streamed = (headers: Record<string, string>): RequestInit =>
  ({
    method: 'POST',
    headers,
    body: new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ query: PROMO })));
        controller.close();
      },
    }),
    duplex: 'half',
  }) as RequestInit; // `duplex` (required for a stream body) is not in lib.dom's RequestInit yet

describe('GraphQL over HTTP', () => {
  const cases: Array<[string, RequestInit & { path?: string }, number, RegExp]> = [
    ['malformed JSON', json('{"query":'), 400, /invalid JSON/],
    [
      'a wrong content type',
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: PROMO },
      415,
      /application\/json/,
    ],
    ['no query', json({}), 400, /Send a query/],
    ['a query that is not a string', json({ query: 42 }), 400, /"query" param to be a string/],
    [
      'invalid variables',
      json({
        query: 'query($n: Int) { homepage { recommendations(limit: $n) { score } } }',
        variables: { n: 'ten' },
      }),
      400,
      /Variable "\$n" got invalid value "ten"/,
    ],
    [
      'variables that are not an object',
      json({ query: PROMO, variables: [1] }),
      400,
      /"variables" param/,
    ],
    [
      'an unknown operation name',
      json({ query: `query Home ${PROMO}`, operationName: 'Away' }),
      400,
      /Could not determine what operation to execute/,
    ],
    ['a syntax error', json({ query: '{ homepage {' }), 400, /Syntax Error/],
    [
      'an unknown field',
      json({ query: '{ homepage { nope } }' }),
      400,
      /Cannot query field "nope"/,
    ],
    [
      'an unsupported Accept',
      {
        ...json({ query: PROMO }),
        headers: { 'content-type': 'application/json', accept: 'application/xml' },
      },
      406,
      /Accept application\/graphql-response\+json/,
    ],
    ['PUT', { ...json({ query: PROMO }), method: 'PUT' }, 405, /distinct connections mode/],
    [
      'a batched request (batching off)',
      json([{ query: PROMO }, { query: PROMO }]),
      400,
      /Batching is not supported/,
    ],
  ];

  it.each(cases)(
    'answers %s with a well-formed %i and calls no upstream',
    async (_name, init, status, message) => {
      const bed = await startBed();
      const { status: got, body } = await bed.request(init);

      expect(got).toBe(status);
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0]?.message).toMatch(message);
      expect(noUpstreamCalls(bed)).toBe(true);
    },
  );

  it('runs a query sent with GET', async () => {
    const bed = await startBed();
    const { status, body } = await bed.request({
      path: `/graphql?query=${encodeURIComponent(PROMO)}`,
      headers: { accept: GRAPHQL_RESPONSE },
    });
    expect(status).toBe(200);
    expect(body.data?.homepage.promo).toHaveLength(2);
  });

  it('keeps validation failures at 200 for legacy application/json clients, as the spec says', async () => {
    const bed = await startBed();
    const { status, body } = await bed.request(json({ query: '{ nope }' }, 'application/json'));
    expect(status).toBe(200);
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('query limits', () => {
  const repeat = (n: number, make: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => make(i)).join(' ');
  const cases: Array<[string, Parameters<typeof startBed>[0], string, RegExp]> = [
    [
      'too deep',
      { security: { maxDepth: 3 } },
      '{ homepage { promo { book { price { amount } } } } }',
      /[Dd]epth/,
    ],
    [
      'too many aliases',
      {},
      `{ ${repeat(16, (i) => `h${i}: homepage { promo { id } }`)} }`,
      /Aliases limit of 15/,
    ],
    [
      'too many directives',
      {},
      `{ homepage { promo { id ${repeat(11, () => '@include(if: true)')} } } }`,
      /Directives limit of 10/,
    ],
    [
      'too many tokens',
      { security: { maxTokens: 50 } },
      `{ homepage { promo { ${repeat(60, () => 'id')} } } }`,
      /Token limit of 50/,
    ],
    [
      'too costly',
      { security: { maxCost: 10 } },
      '{ homepage { promo { id title book { title authors price { amount currency } } } } }',
      /cost/i,
    ],
  ];

  it.each(cases)(
    'rejects a query %s with 400 QUERY_LIMIT_EXCEEDED before any upstream call',
    async (_name, options, query, message) => {
      const bed = await startBed(options);
      const { status, body } = await bed.request(json({ query }));

      expect(status).toBe(400);
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0]).toMatchObject({
        message: expect.stringMatching(message),
        extensions: { code: 'QUERY_LIMIT_EXCEEDED' },
      });
      expect(noUpstreamCalls(bed)).toBe(true);
    },
  );

  it('lets the first-party homepage query through the default limits', async () => {
    const bed = await startBed();
    const { readFileSync } = await import('node:fs');
    const query = readFileSync('operations/web/Homepage.graphql', 'utf8');
    const { status, body } = await bed.request(json({ query }));
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  it('refuses a body over the size limit with 413, unread', async () => {
    const bed = await startBed();
    const { status, body } = await bed.request(json({ query: PROMO, padding: 'x'.repeat(70_000) }));
    expect(status).toBe(413);
    expect(body.errors?.[0]?.message).toMatch(/65536-byte limit/);
    expect(noUpstreamCalls(bed)).toBe(true);
  });

  it('refuses a streamed body without Content-Length with 411', async () => {
    const bed = await startBed();
    const { status } = await bed.request(streamed({ 'content-type': 'application/json' }));
    expect(status).toBe(411);
  });

  it('refuses a Content-Length that is not one number with 400', async () => {
    const bed = await startBed();
    const { status } = await bed.request(
      streamed({ 'content-type': 'application/json', 'content-length': '12, 12' }),
    );
    expect(status).toBe(400);
    expect(noUpstreamCalls(bed)).toBe(true);
  });

  it('accepts batches up to BATCHING_LIMIT when enabled, and no more', async () => {
    const bed = await startBed({ security: { batchingLimit: 2 } });
    const ok = await bed.request(json([{ query: PROMO }, { query: '{ __typename }' }]));
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual([
      expect.objectContaining({ data: expect.any(Object) }),
      { data: { __typename: 'Query' } },
    ]);

    const tooMany = await bed.request(json([{ query: PROMO }, { query: PROMO }, { query: PROMO }]));
    expect(tooMany.status).toBe(413);
  });
});

describe('production mode', () => {
  const production = () => ({ security: loadConfig({ NODE_ENV: 'production' }).security });

  it('is what NODE_ENV=production configures, unless overridden', () => {
    expect(production().security).toMatchObject({
      graphiql: false,
      introspection: false,
      csrfPrevention: true,
      fieldSuggestions: false,
    });
    expect(
      loadConfig({ NODE_ENV: 'production', GRAPHIQL: 'true', INTROSPECTION: 'true' }).security,
    ).toMatchObject({
      graphiql: true,
      introspection: true,
    });
    expect(loadConfig({}).security).toMatchObject({
      graphiql: true,
      introspection: true,
      csrfPrevention: false,
    });
  });

  it('refuses introspection', async () => {
    const bed = await startBed(production());
    const { status, body } = await bed.request(json({ query: '{ __schema { types { name } } }' }));
    expect(status).toBe(400);
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);
  });

  it('serves no GraphiQL', async () => {
    const bed = await startBed(production());
    const response = await bed.gateway.fetch('http://gateway.test/graphql', {
      headers: { accept: 'text/html' },
    });
    expect(await response.text()).not.toMatch(/graphiql/i);
  });

  it('hides field suggestions', async () => {
    const bed = await startBed(production());
    const { body } = await bed.request(json({ query: '{ homepage { promos { id } } }' }));
    expect(body.errors?.[0]?.message).toMatch(/Cannot query field "promos"/);
    expect(body.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  it('blocks a cross-site GET without a preflighted header (CSRF), and serves it with one', async () => {
    const bed = await startBed(production());
    const path = `/graphql?query=${encodeURIComponent(PROMO)}`;
    expect((await bed.request({ path })).status).toBe(403);
    expect(noUpstreamCalls(bed)).toBe(true);
    const allowed = await bed.request({ path, headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(allowed.status).toBe(200);
  });

  it('still serves GraphiQL and suggestions in development', async () => {
    const bed = await startBed();
    const response = await bed.gateway.fetch('http://gateway.test/graphql', {
      headers: { accept: 'text/html' },
    });
    expect(await response.text()).toMatch(/Bookshop homepage BFF/);
    const { body } = await bed.request(json({ query: '{ homepage { promos { id } } }' }));
    expect(body.errors?.[0]?.message).toMatch(/Did you mean "promo"/);
  });
});
