import { HTTPError } from 'ky';
import { describe, expect, it } from 'vitest';
import { classifyFailure, codeForStatus } from '../src/outbound/classify-failure.js';
import { BodyTooLargeError } from '../src/outbound/read-body.js';

/** An HTTPError as ky throws it for a non-2xx answer. */
function httpError(status: number, headers: Record<string, string> = {}) {
  const request = new Request('http://upstream.test/x');
  const response = new Response(null, { status, headers });
  return new HTTPError(response, request, {} as never);
}

describe('codeForStatus', () => {
  it.each([
    [429, 'UPSTREAM_RATE_LIMITED'],
    [500, 'UPSTREAM_UNAVAILABLE'],
    [502, 'UPSTREAM_UNAVAILABLE'],
    [503, 'UPSTREAM_UNAVAILABLE'],
    [504, 'UPSTREAM_UNAVAILABLE'],
    [400, 'UPSTREAM_BAD_RESPONSE'],
    [401, 'UPSTREAM_BAD_RESPONSE'],
    [404, 'UPSTREAM_BAD_RESPONSE'],
    [301, 'UPSTREAM_BAD_RESPONSE'],
  ] as const)('maps HTTP %i to %s', (status, code) => {
    expect(codeForStatus(status)).toBe(code);
  });
});

describe('classifyFailure', () => {
  it.each([
    [
      'our own timeout',
      new Error('x'),
      true,
      true,
      { code: 'UPSTREAM_TIMEOUT', upstreamAtFault: true },
    ],
    [
      'the request deadline',
      new Error('x'),
      true,
      false,
      { code: 'UPSTREAM_TIMEOUT', upstreamAtFault: false },
    ],
    [
      'a body over the limit',
      new BodyTooLargeError(10),
      false,
      true,
      { code: 'UPSTREAM_BAD_RESPONSE' },
    ],
    ['a 503', httpError(503), false, true, { code: 'UPSTREAM_UNAVAILABLE', status: 503 }],
    ['a 404', httpError(404), false, true, { code: 'UPSTREAM_BAD_RESPONSE', status: 404 }],
    [
      'a 429 with Retry-After',
      httpError(429, { 'retry-after': '2' }),
      false,
      true,
      { code: 'UPSTREAM_RATE_LIMITED', status: 429, retryAfterMs: 2000 },
    ],
    [
      'the client leaving',
      new DOMException('gone', 'AbortError'),
      false,
      true,
      { code: 'UPSTREAM_UNAVAILABLE', upstreamAtFault: false },
    ],
    [
      'a refused connection',
      new TypeError('fetch failed'),
      false,
      true,
      { code: 'UPSTREAM_UNAVAILABLE' },
    ],
  ] as const)('classifies %s', (_what, error, timedOut, ownTimeout, expected) => {
    expect(classifyFailure(error, timedOut, ownTimeout)).toEqual(expected);
  });
});
