import { buildHTTPExecutor } from '@graphql-tools/executor-http';
import { mergeIncrementalResult } from '@graphql-tools/utils';
import { parse, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { POPULAR } from './helpers/fixtures.js';
import { useTestBeds } from './helpers/gateway.js';
import { heldRecommendations } from './helpers/held-upstream.js';
import { sendJson } from './helpers/upstream.js';

const startBed = useTestBeds();

const DEFERRED = parse(/* GraphQL */ `
  query Deferred {
    homepage {
      promo {
        id
      }
      ... @defer(label: "picks") {
        recommendations {
          score
        }
      }
    }
  }
`);

async function collect(
  result: unknown,
  onFirst: () => void,
): Promise<Array<ExecutionResult & { incremental?: unknown; hasNext?: boolean }>> {
  const parts: Array<ExecutionResult & { hasNext?: boolean }> = [];
  if (!(typeof result === 'object' && result !== null && Symbol.asyncIterator in result)) {
    throw new Error(`expected an incremental response, got ${JSON.stringify(result)}`);
  }
  // Over multipart the client merges parts itself; over SSE it hands them over
  // raw, so they are merged here with graphql-tools' own merge.
  let merged: ExecutionResult = {};
  for await (const part of result as AsyncIterable<
    ExecutionResult & { incremental?: readonly ExecutionResult[] }
  >) {
    if (part.incremental) {
      merged = structuredClone(merged);
      mergeIncrementalResult({ incrementalResult: part, executionResult: merged });
    } else {
      merged = structuredClone(part);
    }
    parts.push(structuredClone(merged));
    if (parts.length === 1) onFirst();
  }
  return parts;
}

describe.each([
  ['multipart/mixed', {}],
  ['text/event-stream', { accept: 'text/event-stream' }],
])('@defer over %s', (_transport, headers) => {
  it('sends promo first, then recommendations once the slow upstream answers', async () => {
    const recommendations = heldRecommendations();
    const bed = await startBed({ handlers: { recommendations: recommendations.handler } });
    const executor = buildHTTPExecutor({
      endpoint: 'http://gateway.test/graphql',
      fetch: bed.gateway.fetch,
      headers,
    });

    let answeredBeforeFirstPart = true;
    const parts = await collect(await executor({ document: DEFERRED }), () => {
      // The first part is here while recommendations are still held back.
      answeredBeforeFirstPart = false;
      recommendations.release();
    });

    expect(answeredBeforeFirstPart).toBe(false);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts[0]?.data).toEqual({ homepage: { promo: [{ id: 'p-1' }, { id: 'p-2' }] } });
    expect(parts.at(-1)?.data).toEqual({
      homepage: {
        promo: [{ id: 'p-1' }, { id: 'p-2' }],
        recommendations: POPULAR.map(({ score }) => ({ score })),
      },
    });
  });

  it("sends promo's books in the first part, without waiting for the deferred recommendations", async () => {
    const recommendations = heldRecommendations();
    // A book batch held for the deferred list would go out only at deadline −
    // catalog timeout (19.5 s), past the test's own timeout.
    const bed = await startBed({
      requestDeadlineMs: 20_000,
      handlers: { recommendations: recommendations.handler },
    });
    const executor = buildHTTPExecutor({
      endpoint: 'http://gateway.test/graphql',
      fetch: bed.gateway.fetch,
      headers,
    });
    const document = parse(/* GraphQL */ `
      query DeferredWithBooks {
        homepage {
          promo {
            book {
              id
            }
          }
          ... @defer {
            recommendations {
              book {
                id
              }
            }
          }
        }
      }
    `);

    const parts = await collect(await executor({ document }), () => recommendations.release());

    expect(parts[0]?.data).toEqual({
      homepage: { promo: [{ book: { id: 'b-1' } }, { book: null }] },
    });
    expect(bed.upstreams.catalog.requests.length).toBe(2); // One batch per part.
  });

  it('delivers a failed deferred field as a later part with its error, not as a failed response', async () => {
    const recommendations = heldRecommendations((_req, res) => sendJson(res, {}, 500));
    const bed = await startBed({ handlers: { recommendations: recommendations.handler } });
    const executor = buildHTTPExecutor({
      endpoint: 'http://gateway.test/graphql',
      fetch: bed.gateway.fetch,
      headers,
    });

    const parts = await collect(await executor({ document: DEFERRED }), () =>
      recommendations.release(),
    );

    expect(parts[0]?.errors).toBeUndefined();
    // Masked like any other error: no upstream URL in a deferred part either.
    expect(JSON.stringify(parts)).not.toMatch(/127\.0\.0\.1|HTTP 500/);
    const last = parts.at(-1);
    expect(last?.data?.homepage).toEqual({
      promo: [{ id: 'p-1' }, { id: 'p-2' }],
      recommendations: null,
    });
    expect(last?.errors).toEqual([
      expect.objectContaining({
        path: ['homepage', 'recommendations'],
        extensions: expect.objectContaining({
          code: 'UPSTREAM_UNAVAILABLE',
          service: 'recommendations',
        }),
      }),
    ]);
  });
});
