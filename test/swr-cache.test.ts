import { describe, expect, it } from 'vitest';
import { createSwrCache } from '../src/cache/swr-cache.js';
import { UpstreamError } from '../src/errors/upstream-error.js';
import { silentLogger } from '../src/logger.js';
import { RequestRecord } from '../src/observability/request-record.js';

/** A call with no deadline, or one `deadlineMs` from now. */
const call = (deadlineMs?: number) => ({ record: RequestRecord.detached({ deadlineMs }) });

/** A cache over a scripted loader and a hand-moved clock. */
function setup(
  options: { ttlMs?: number; staleWhileRevalidateMs?: number; staleIfErrorMs?: number } = {},
) {
  let time = 1_000_000;
  const loads: Array<{
    resolve: (v: { value: string; maxAgeMs?: number }) => void;
    reject: (e: Error) => void;
  }> = [];
  const cache = createSwrCache<string>({
    service: 'promo',
    load: () =>
      new Promise((resolve, reject) =>
        loads.push({ resolve: (v) => resolve({ maxAgeMs: undefined, ...v }), reject }),
      ),
    ttlMs: options.ttlMs ?? 1000,
    staleWhileRevalidateMs: options.staleWhileRevalidateMs ?? 1000,
    staleIfErrorMs: options.staleIfErrorMs ?? 10_000,
    logger: silentLogger,
    now: () => time,
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    cache,
    loads,
    settle,
    advance: (ms: number) => (time += ms),
    /** Fills the cache with `value` through one load. */
    async prime(value: string, maxAgeMs?: number) {
      const got = cache.get(call());
      await settle();
      loads.at(-1)?.resolve({ value, maxAgeMs });
      return got;
    },
  };
}

const failure = () => new UpstreamError('promo', 'UPSTREAM_UNAVAILABLE', 'down');

describe('shared promo cache (stale-while-revalidate, stale-if-error)', () => {
  it('serves a fresh value without loading again, saying how long it stays fresh', async () => {
    const { cache, loads, prime, advance } = setup();
    expect(await prime('v1')).toEqual({
      value: 'v1',
      freshness: { state: 'fresh', ageMs: 0, freshForMs: 1000 },
    });
    advance(500);
    expect(await cache.get(call())).toEqual({
      value: 'v1',
      freshness: { state: 'fresh', ageMs: 500, freshForMs: 500 },
    });
    expect(loads).toHaveLength(1);
  });

  it('shares one load between concurrent misses (single flight)', async () => {
    const { cache, loads, settle } = setup();
    const all = Promise.all([cache.get(call()), cache.get(call()), cache.get(call())]);
    await settle();
    loads[0]?.resolve({ value: 'v1' });
    expect((await all).map((r) => r.value)).toEqual(['v1', 'v1', 'v1']);
    expect(loads).toHaveLength(1);
  });

  it('serves stale at once past freshness and refreshes once in the background', async () => {
    const { cache, loads, prime, advance, settle } = setup();
    await prime('v1');
    advance(1500);
    const [a, b] = await Promise.all([cache.get(call()), cache.get(call())]);
    expect(a).toEqual({
      value: 'v1',
      freshness: { state: 'stale', ageMs: 1500, reason: 'revalidating' },
    });
    expect(b.value).toBe('v1');
    expect(loads).toHaveLength(2);
    loads[1]?.resolve({ value: 'v2' });
    await settle();
    expect((await cache.get(call())).value).toBe('v2');
  });

  it('serves the last good value when a refresh fails, within stale-if-error', async () => {
    const { cache, loads, prime, advance, settle } = setup();
    await prime('v1');
    advance(5000); // past freshness and stale-while-revalidate: must wait for a load
    const got = cache.get(call());
    await settle();
    loads[1]?.reject(failure());
    expect(await got).toEqual({
      value: 'v1',
      freshness: { state: 'stale', ageMs: 5000, reason: 'upstream_failed' },
    });
  });

  it('fails once the last good value is older than stale-if-error', async () => {
    const { cache, loads, prime, advance, settle } = setup();
    await prime('v1');
    advance(20_000);
    const got = cache.get(call());
    await settle();
    loads[1]?.reject(failure());
    await expect(got).rejects.toBeInstanceOf(UpstreamError);
  });

  it('never stores an error: the next request loads again', async () => {
    const { cache, loads, settle } = setup();
    const first = cache.get(call());
    await settle();
    loads[0]?.reject(failure());
    await expect(first).rejects.toBeInstanceOf(UpstreamError);
    const second = cache.get(call());
    await settle();
    loads[1]?.resolve({ value: 'v1' });
    expect((await second).value).toBe('v1');
  });

  it("honours the upstream's max-age over the configured TTL", async () => {
    const { cache, loads, prime, advance } = setup({ ttlMs: 1000, staleWhileRevalidateMs: 0 });
    await prime('v1', 60_000);
    advance(30_000);
    expect(await cache.get(call())).toMatchObject({ value: 'v1', freshness: { state: 'fresh' } });
    expect(loads).toHaveLength(1);
  });

  it('keeps nothing the upstream marks uncacheable (max-age 0)', async () => {
    const { cache, loads, prime, settle } = setup();
    await prime('v1', 0);
    const again = cache.get(call());
    await settle();
    expect(loads).toHaveLength(2);
    loads[1]?.resolve({ value: 'v2' });
    expect((await again).value).toBe('v2');
  });

  it('gives up at the caller’s deadline while the shared load goes on for others', async () => {
    const { cache, loads, settle } = setup();
    const impatient = cache.get(call(20));
    const patient = cache.get(call());
    await expect(impatient).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    await settle();
    loads[0]?.resolve({ value: 'v1' });
    expect((await patient).value).toBe('v1');
    expect(loads).toHaveLength(1);
  });
});
