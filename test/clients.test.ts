import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApolloClient,
  ApolloLink,
  gql,
  HttpLink,
  InMemoryCache,
  type TypedDocumentNode,
} from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { Client, fetchExchange, gql as urqlGql } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createSseClient, NetworkError } from 'graphql-sse';
import { describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../src/logger.js';
import { loadManifest, readManifest } from '../src/trusted-documents.js';
import { POPULAR } from './helpers/fixtures.js';
import { useTestBeds } from './helpers/gateway.js';
import { useListening } from './helpers/listening.js';
import { heldRecommendations } from './helpers/held-upstream.js';

// Real clients, over HTTP, to the gateway behind Node's server: what the
// gateway received is read from its own log (one line per request).

const startBed = useTestBeds();
const listen = useListening();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

type Line = Record<string, unknown>;
function requestLog(): Logger & { requests: () => Line[] } {
  const lines: Line[] = [];
  return {
    ...silentLogger,
    info: (line) => lines.push(line as Line),
    requests: () => lines.filter((line) => line.msg === 'graphql request'),
  };
}

/** What each request carried, as the client sent it (the real fetch underneath). */
function recordingFetch() {
  const sent: Array<{ method: string; url: string; body: Record<string, unknown> | null }> = [];
  const wrapped: typeof fetch = async (input, init) => {
    const body =
      typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : null;
    sent.push({ method: init?.method ?? 'GET', url: String(input), body });
    return fetch(input, init);
  };
  return { fetch: wrapped, sent };
}

const PROMOS: TypedDocumentNode<{
  homepage: { promo: Array<{ id: string; title: string }> };
}> = gql`
  query Promos {
    homepage {
      promo {
        id
        title
      }
    }
  }
`;

function apollo(
  uri: string,
  {
    persisted = {} as Partial<ConstructorParameters<typeof PersistedQueryLink>[0]>,
    useGET = false,
  } = {},
) {
  const recorder = recordingFetch();
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.from([
      new PersistedQueryLink({
        sha256,
        useGETForHashedQueries: useGET,
        ...persisted,
      } as ConstructorParameters<typeof PersistedQueryLink>[0]),
      new HttpLink({ uri, fetch: recorder.fetch }),
    ]),
    incrementalHandler: new Defer20220824Handler(),
    clientAwareness: { name: 'web', version: '1.0.0' },
  });
  return { client, sent: recorder.sent };
}

describe('Apollo Client 4 with PersistedQueryLink', () => {
  it.each([
    ['POST', false],
    ['GET', true],
  ] as const)(
    'registers on the first call and sends the hash alone after that (%s, CSRF prevention on)',
    async (_, useGET) => {
      const logger = requestLog();
      const bed = await startBed({ logger, security: { csrfPrevention: true } });
      const { url } = await listen(bed.gateway);
      const { client, sent } = apollo(url, { useGET });

      const first = await client.query({ query: PROMOS, fetchPolicy: 'network-only' });
      const second = await client.query({ query: PROMOS, fetchPolicy: 'network-only' });

      expect(first.data?.homepage.promo).toHaveLength(2);
      expect(second.data).toEqual(first.data);
      expect(logger.requests().map((line) => [line.code ?? 'executed', line.client])).toEqual([
        ['PERSISTED_QUERY_NOT_FOUND', 'web'],
        ['executed', 'web'],
        ['executed', 'web'],
      ]);
      // The retry carried the text; the last call only the hash.
      expect(sent[1]?.body?.query).toEqual(expect.stringContaining('query Promos'));
      expect(sent[2]?.body?.query ?? new URL(sent[2]!.url).searchParams.get('query')).toBeFalsy();
      expect(bed.upstreams.promo.requests.length).toBeGreaterThan(0);
    },
  );

  it('is refused when the hash does not match the query, and nothing runs', async () => {
    const bed = await startBed();
    const { url } = await listen(bed.gateway);
    const { client } = apollo(url, {
      persisted: { generateHash: () => Promise.resolve('f'.repeat(64)) },
    });

    const outcome = await client.query({ query: PROMOS }).then(
      () => 'answered',
      (error: unknown) => JSON.stringify(error) + String(error),
    );
    expect(outcome).toContain('PERSISTED_QUERY_HASH_MISMATCH');
    expect(bed.upstreams.promo.requests).toHaveLength(0);
  });

  it('is refused in enforce mode for a hash not in the manifest', async () => {
    const logger = requestLog();
    const manifest = readManifest('operations/manifest.json');
    const bed = await startBed({
      logger,
      security: { trustedDocuments: { mode: 'enforce', manifest } },
    });
    const { url } = await listen(bed.gateway);
    const { client } = apollo(url);

    const outcome = await client.query({ query: PROMOS }).then(
      () => 'answered',
      (error: unknown) => String(error),
    );
    expect(outcome).toContain('Only trusted documents');
    expect(logger.requests().map((line) => line.code)).toEqual([
      'PERSISTED_QUERY_NOT_FOUND',
      'PERSISTED_QUERY_ONLY',
    ]);
    expect(bed.upstreams.promo.requests).toHaveLength(0);
  });
});

describe("Apollo Client 4's @defer handler", () => {
  it('shows the page streaming, then complete once the deferred part arrives', async () => {
    const { handler, release } = heldRecommendations();
    const bed = await startBed({ handlers: { recommendations: handler } });
    const { url } = await listen(bed.gateway);
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new HttpLink({ uri: url }),
      incrementalHandler: new Defer20220824Handler(),
    });
    const states: string[] = [];
    const complete = new Promise<{ homepage: { recommendations: unknown[] } }>(
      (resolve, reject) => {
        client
          .watchQuery({
            query: gql`
              query Deferred {
                homepage {
                  promo {
                    id
                  }
                  ... @defer {
                    recommendations {
                      score
                    }
                  }
                }
              }
            `,
          })
          .subscribe({
            next: (result) => {
              states.push(result.dataState);
              if (result.dataState === 'streaming') release();
              if (result.dataState === 'complete') resolve(result.data as never);
            },
            error: reject,
          });
      },
    );

    const data = await complete;
    expect(states).toContain('streaming');
    expect(states.at(-1)).toBe('complete');
    expect(data.homepage.recommendations).toHaveLength(POPULAR.length);
  });
});

describe('urql with the persisted exchange', () => {
  it('registers on a miss and sends hash-only GETs after that (CSRF prevention on)', async () => {
    const logger = requestLog();
    const bed = await startBed({ logger, security: { csrfPrevention: true } });
    const { url } = await listen(bed.gateway);
    const recorder = recordingFetch();
    const client = new Client({
      url,
      fetch: recorder.fetch,
      // urql's GETs carry no Content-Type: a preflight header gets them past CSRF prevention.
      fetchOptions: { headers: { 'graphql-preflight': '1' } },
      exchanges: [persistedExchange({ preferGetForPersistedQueries: true }), fetchExchange],
      requestPolicy: 'network-only',
    });
    const query = urqlGql`query UrqlPromos { homepage { promo { id } } }`;

    const first = await client.query(query, {}).toPromise();
    const second = await client.query(query, {}).toPromise();

    expect(first.error).toBeUndefined();
    expect(first.data.homepage.promo).toHaveLength(2);
    expect(second.data).toEqual(first.data);
    expect(logger.requests().map((line) => line.code ?? `${String(line.method)} executed`)).toEqual(
      ['PERSISTED_QUERY_NOT_FOUND', expect.stringContaining('executed'), 'GET executed'],
    );
    expect(new URL(recorder.sent[2]!.url).searchParams.get('query')).toBeNull();
  });
});

describe('urql without a preflight header', () => {
  it('is refused on GET by CSRF prevention, with a code that says what to send', async () => {
    const bed = await startBed({ security: { csrfPrevention: true } });
    const { url } = await listen(bed.gateway);
    const client = new Client({ url, exchanges: [fetchExchange], preferGetMethod: true });

    const { error } = await client.query(urqlGql`{ homepage { promo { id } } }`, {}).toPromise();
    expect(error?.graphQLErrors[0]?.extensions.code).toBe('CSRF_PREVENTED');
    expect(bed.upstreams.promo.requests).toHaveLength(0);
  });
});

describe('Relay-style persisted queries (doc_id)', () => {
  const text = 'query RelayPromos { homepage { promo { id } } }';
  const md5 = createHash('md5').update(text).digest('hex');
  const dir = mkdtempSync(join(tmpdir(), 'relay-'));
  writeFileSync(join(dir, 'persisted_queries.json'), JSON.stringify({ [md5]: text }));
  const manifest = loadManifest(
    `operations/manifest.json,${join(dir, 'persisted_queries.json')}`,
    'enforce',
  );

  it.each([
    [
      'POST',
      (url: string) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ doc_id: md5, variables: {} }),
        }),
    ],
    [
      'GET',
      (url: string) =>
        fetch(`${url}?doc_id=${md5}&variables=%7B%7D`, {
          headers: { 'content-type': 'application/json' },
        }),
    ],
  ])('runs a Relay manifest document named by doc_id over %s, in enforce mode', async (_, send) => {
    const bed = await startBed({ security: { trustedDocuments: { mode: 'enforce', manifest } } });
    const { url } = await listen(bed.gateway);
    const response = await send(url);
    const body = (await response.json()) as { data?: { homepage: { promo: unknown[] } } };

    expect(response.status).toBe(200);
    expect(body.data?.homepage.promo).toHaveLength(2);
  });
});

describe('graphql-sse', () => {
  it('works in distinct connections mode', async () => {
    const bed = await startBed();
    const { url } = await listen(bed.gateway);
    const client = createSseClient({ url, retryAttempts: 0 });
    const results: unknown[] = [];
    for await (const result of client.iterate({ query: '{ homepage { promo { id } } }' })) {
      results.push(result);
    }
    client.dispose();
    expect(results).toEqual([{ data: { homepage: { promo: [{ id: 'p-1' }, { id: 'p-2' }] } } }]);
  });

  it('is told at once that single connection mode is not supported', async () => {
    const bed = await startBed();
    const { url } = await listen(bed.gateway);
    let reservation = '';
    const client = createSseClient({
      url,
      singleConnection: true,
      retryAttempts: 0,
      // Reads the refusal's body before the client aborts its request.
      fetchFn: async (input: RequestInfo | URL, init?: RequestInit) => {
        const response = await fetch(input, init);
        if (init?.method === 'PUT') reservation = await response.clone().text();
        return response;
      },
    });
    const failure = await (async () => {
      for await (const _ of client.iterate({ query: '{ homepage { promo { id } } }' })) break;
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    client.dispose();

    expect(failure).toBeInstanceOf(NetworkError);
    expect((failure as NetworkError<Response>).response?.status).toBe(405);
    const body = JSON.parse(reservation) as {
      errors: Array<{ message: string; extensions: { code: string } }>;
    };
    expect(body.errors[0]?.extensions.code).toBe('SSE_SINGLE_CONNECTION_UNSUPPORTED');
    expect(body.errors[0]?.message).toContain('distinct connections mode');
  });
});
