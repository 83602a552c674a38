import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../src/outbound/retry-delay.js';

const policy = { retries: 2, backoff: { baseMs: 25, maxMs: 200 } };
/** A random source pinned to its maximum, so the delay is the jitter's upper bound. */
const top = () => 1;

describe('retryDelayMs', () => {
  it.each([
    // [what failed, error, attempt, expected delay]
    ['a refused connection, first attempt', { code: 'UPSTREAM_UNAVAILABLE' }, 0, 25],
    ['a refused connection, second attempt', { code: 'UPSTREAM_UNAVAILABLE' }, 1, 50],
    ['a 502', { code: 'UPSTREAM_UNAVAILABLE', status: 502 }, 0, 25],
    ['a 503', { code: 'UPSTREAM_UNAVAILABLE', status: 503 }, 0, 25],
    ['a 504', { code: 'UPSTREAM_UNAVAILABLE', status: 504 }, 0, 25],
    ['a 500', { code: 'UPSTREAM_UNAVAILABLE', status: 500 }, 0, undefined],
    ['a 429 with Retry-After', { code: 'UPSTREAM_RATE_LIMITED', retryAfterMs: 300 }, 0, 300],
    ['a 429 without Retry-After', { code: 'UPSTREAM_RATE_LIMITED' }, 0, undefined],
    ['a timeout', { code: 'UPSTREAM_TIMEOUT' }, 0, undefined],
    ['a bad response', { code: 'UPSTREAM_BAD_RESPONSE', status: 404 }, 0, undefined],
    ['any failure once retries are spent', { code: 'UPSTREAM_UNAVAILABLE' }, 2, undefined],
    [
      'a failure that was ours (client left)',
      { code: 'UPSTREAM_UNAVAILABLE', upstreamAtFault: false },
      0,
      undefined,
    ],
  ] as const)('after %s: %s', (_what, error, attemptNo, expected) => {
    const failure = { status: undefined, retryAfterMs: undefined, upstreamAtFault: true, ...error };
    expect(retryDelayMs(failure, attemptNo, policy, top)).toBe(expected);
  });

  it('caps the backoff at maxMs and jitters it down to zero', () => {
    const error = {
      code: 'UPSTREAM_UNAVAILABLE',
      status: undefined,
      retryAfterMs: undefined,
      upstreamAtFault: true,
    } as const;
    const many = { ...policy, retries: 10 };
    expect(retryDelayMs(error, 8, many, top)).toBe(200);
    expect(retryDelayMs(error, 1, many, () => 0)).toBe(0);
    expect(retryDelayMs(error, 1, many, () => 0.5)).toBe(25);
  });
});
