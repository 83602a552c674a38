import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { signToken } from '../src/auth.js';
import { KEYS } from '../src/redis/keys.js';
import { documentId } from '../src/trusted-documents.js';
import { useBuiltServers } from './helpers/built-server.js';
import { HOMEPAGE_QUERY, TEST_SECRET } from './helpers/gateway.js';
import { stored, useRedis } from './helpers/redis.js';

// Guarantees no test noticed losing (issue 22): each test below fails when the
// guarantee is switched off.

const start = useBuiltServers();
const redis = useRedis();

describe('a client going away', () => {
  it('cancels its upstream calls, long before any upstream timeout or deadline', async () => {
    let arrived: () => void = () => {};
    let closed: () => void = () => {};
    const upstreamHasIt = new Promise<void>((resolve) => (arrived = resolve));
    const upstreamClosed = new Promise<void>((resolve) => (closed = resolve));
    const server = await start(
      {
        // Only cancellation can end the upstream call within the test's timeout:
        // the timeout, the deadline and retries are all out of reach.
        REQUEST_DEADLINE_MS: '60000',
        RECOMMENDATIONS_TIMEOUT_MS: '60000',
        RECOMMENDATIONS_RETRIES: '0',
      },
      {
        handlers: {
          // Never answers; says when its connection goes.
          recommendations: (_req, res: ServerResponse) => {
            res.once('close', () => {
              if (!res.writableFinished) closed();
            });
            arrived();
          },
        },
      },
    );
    const client = new AbortController();
    const page = fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await signToken(TEST_SECRET, 'u-42')}`,
      },
      body: JSON.stringify({ query: HOMEPAGE_QUERY }),
      signal: client.signal,
    }).catch(() => 'aborted');

    await upstreamHasIt;
    client.abort();
    expect(await page).toBe('aborted');
    await upstreamClosed; // Without cancellation: 60 s, past the test's timeout.
  });
});

// Shedding on the event loop's standing wait, end to end (a page arriving while
// the loop is kept busy is refused as OVERLOADED, and not with the reading capped):
// test/admission.test.ts.

describe('automatic persisted queries read back from Redis', () => {
  it('refuses a stored value that is not the document its hash names', async () => {
    const shared = await redis.start();
    const env = {
      REDIS_URL: shared.url,
      REDIS_TIMEOUT_MS: '1000',
      PAGE_CACHE_TTL_MS: '0',
    };
    const post = (origin: string, body: unknown) =>
      fetch(`${origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      }).then((response) => response.json());
    const apq = (query: string) => ({
      persistedQuery: { version: 1, sha256Hash: documentId(query).slice('sha256:'.length) },
    });
    const first = '{ first: __typename }';
    const second = '{ second: __typename }';

    // One replica registers both; Redis holds them.
    const registering = await start(env);
    await registering.redisUp();
    for (const query of [first, second]) {
      expect(await post(registering.origin, { query, extensions: apq(query) })).toHaveProperty(
        'data',
      );
    }
    await stored(shared, KEYS.persistedQuery(documentId(first)));
    await stored(shared, KEYS.persistedQuery(documentId(second)));

    // Another replica (empty memory) reads the first back from Redis: its reads reach Redis.
    const reading = await start(env);
    await reading.redisUp();
    expect(await post(reading.origin, { extensions: apq(first) })).toEqual({
      data: { first: 'Query' },
    });

    // The second's value is replaced by another, valid operation.
    await shared.admin.set(
      `homepage-bff:${KEYS.persistedQuery(documentId(second))}`,
      '{ planted: __typename }',
    );
    const answer = await post(reading.origin, { extensions: apq(second) });
    expect(answer.data).toBeUndefined();
    expect(answer.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });
});
