import { OperationTypeNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  etagOf,
  matchesIfNoneMatch,
  sharedCacheHeaders,
} from '../src/inbound/http-cache-headers.js';
import { reusableForMs, type AnswerFacts } from '../src/inbound/page-lifetime.js';

const complete: AnswerFacts = {
  status: 200,
  contentType: 'application/graphql-response+json; charset=utf-8',
  setsCookie: false,
  operation: OperationTypeNode.QUERY,
  errors: false,
  incremental: false,
  staleValues: 0,
  fallbacks: 0,
  maxAgeMs: 30_000,
};

describe('how long an answer may be reused', () => {
  it.each<[string, Partial<AnswerFacts>, number]>([
    ['a complete query answer, for the cap', {}, 10_000],
    ['as plain JSON too', { contentType: 'application/json' }, 10_000],
    ['no longer than its freshest data', { maxAgeMs: 1_000 }, 1_000],
    ['for the cap when no data said anything', { maxAgeMs: Infinity }, 10_000],
    ['not when its data may not be shared', { maxAgeMs: 0 }, 0],
    ['not with errors', { errors: true }, 0],
    ['not with a stale value', { staleValues: 1 }, 0],
    ['not with a fallback', { fallbacks: 1 }, 0],
    ['not incremental (@defer, @stream)', { incremental: true }, 0],
    ['not a mutation', { operation: OperationTypeNode.MUTATION }, 0],
    ['not when nothing executed', { operation: undefined }, 0],
    ['not a refusal', { status: 400 }, 0],
    ['not HTML (GraphiQL)', { contentType: 'text/html' }, 0],
    ['not one that sets a cookie', { setsCookie: true }, 0],
  ])('%s', (_name, change, expected) => {
    expect(reusableForMs({ ...complete, ...change }, 10_000)).toBe(expected);
  });
});

describe('HTTP caching headers', () => {
  it.each<[string, string | undefined, boolean]>([
    ['the same tag', '"abc"', true],
    ['its weak form', 'W/"abc"', true],
    ['one of a list', '"x", "abc"', true],
    ['any', '*', true],
    ['another tag', '"abd"', false],
    ['no header', undefined, false],
  ])('If-None-Match matches %s: %s', (_name, header, expected) => {
    expect(matchesIfNoneMatch(header, '"abc"')).toBe(expected);
  });

  it('gives the same body the same strong ETag, and another body another', () => {
    expect(etagOf(Buffer.from('a'))).toBe(etagOf(Buffer.from('a')));
    expect(etagOf(Buffer.from('a'))).not.toBe(etagOf(Buffer.from('b')));
    expect(etagOf(Buffer.from('a'))).toMatch(/^"[\w-]+"$/);
  });

  it.each([
    // storedAt 0, fresh until 10 s: [now, max-age, Age]
    [0, 10, 0],
    [2_500, 9, 2],
    [9_999, 9, 9],
    [12_000, 12, 12],
  ])(
    'at %i ms: max-age=%i, Age %i (max-age − Age never above the time left)',
    (now, maxAge, age) => {
      expect(
        sharedCacheHeaders({ storedAt: 0, freshUntil: 10_000, staleWhileRevalidateMs: 5_000, now }),
      ).toEqual({
        'cache-control': `public, max-age=${maxAge}, stale-while-revalidate=5`,
        age: String(age),
      });
    },
  );
});
