import { describe, expect, it } from 'vitest';
import { silentSharedMetrics } from '../src/observability/metrics.js';
import { gcra, gcraLimit } from '../src/rate-limit/gcra.js';
import { createViewerLimiter, type ViewerLimiter } from '../src/rate-limit/viewer-limiter.js';
import { connected, useRedis, type TestRedis } from './helpers/redis.js';

const redisServers = useRedis();

const alice = { kind: 'user', userId: 'alice' } as const;

describe('GCRA decision', () => {
  const limit = { intervalMs: 1000, burst: 3 };
  it.each([
    // stored TAT, now, decision
    [undefined, 0, { allowed: true, tatMs: 1000 }],
    [2000, 0, { allowed: true, tatMs: 3000 }], // the last page of the burst
    [3000, 0, { allowed: false, retryAfterMs: 1000 }],
    [3500, 400, { allowed: false, retryAfterMs: 1100 }],
    [500, 1000, { allowed: true, tatMs: 2000 }], // a TAT in the past carries no credit
    [1_700_000_002_000.123, 1_700_000_000_000.123, { allowed: true, tatMs: 1_700_000_003_000.123 }],
  ] as const)('stored TAT %s at %s ms: %o', (stored, now, decision) => {
    const result = gcra(stored, now, limit);
    if (decision.allowed) expect(result).toEqual(decision);
    else expect(result).toMatchObject({ allowed: false });
    if (!decision.allowed && !result.allowed) {
      expect(result.retryAfterMs).toBeCloseTo(decision.retryAfterMs, 6);
    }
  });

  it('refuses a burst larger than the limit or below one page', () => {
    expect(() => gcraLimit(40, 41)).toThrow(RangeError);
    expect(() => gcraLimit(40, 0)).toThrow(RangeError);
    expect(gcraLimit(40, 40)).toEqual({ intervalMs: 1500, burst: 40 });
  });
});

/**
 * Pages asked every 50 ms (virtual) from 55 s to 65 s, across where a one-minute
 * window would turn over: the times the limiter allowed.
 */
async function hammerAcrossTheMinute(limiter: ViewerLimiter, clock: { nowMs: number }) {
  const start = clock.nowMs;
  const allowed: number[] = [];
  for (let t = 55_000; t <= 65_000; t += 50) {
    clock.nowMs = start + t;
    if ((await limiter.check(alice)).allowed) allowed.push(t);
  }
  return allowed;
}

/** The most pages allowed within any span of `spanMs`. */
function mostWithin(allowed: number[], spanMs: number): number {
  return Math.max(
    ...allowed.map((from) => allowed.filter((t) => t >= from && t <= from + spanMs).length),
  );
}

describe.each(['memory', 'redis'] as const)('GCRA viewer limit (%s)', (store) => {
  async function limiterAt(perMinute: number, burst: number) {
    // Epoch-sized times, as Date.now and Redis TIME give them.
    const clock = { nowMs: 1_700_000_000_000 };
    let connection = null;
    let redis: TestRedis | undefined;
    if (store === 'redis') {
      redis = await redisServers.start();
      connection = redisServers.connect(redis);
      await connected(connection);
    }
    const limiter = createViewerLimiter({
      perMinute,
      burst,
      connection,
      metrics: silentSharedMetrics,
      now: () => clock.nowMs,
    });
    if (!limiter) throw new Error('expected a limiter');
    /** Whether the count lives where it should (memory: nothing in Redis). */
    const keptInRedis = async () =>
      redis ? (await redis.admin.exists('homepage-bff:v1:gcra:user:alice')) === 1 : true;
    return { limiter, clock, keptInRedis };
  }

  it('never lets a viewer have more than the burst plus the rate within a few seconds, across a minute edge', async () => {
    const { limiter, clock } = await limiterAt(40, 10);
    // A first page at 0 s: a fixed window would start there and turn over at 60 s.
    expect((await limiter.check(alice)).allowed).toBe(true);

    const allowed = await hammerAcrossTheMinute(limiter, clock);

    // Within 3 s: at most 10 + 3 × 40/60 = 12 pages (a fixed window allowed 80).
    expect(mostWithin(allowed, 3_000)).toBeLessThanOrEqual(12);
    // Over the 10 s hammered: the burst, then one page per 1.5 s.
    expect(allowed.length).toBeLessThanOrEqual(10 + 10_000 / 1500 + 1);
    expect(allowed.length).toBeGreaterThanOrEqual(10 + 10_000 / 1500 - 1);
  });

  it('gives the burst at once, then one page per interval, with Retry-After until the next', async () => {
    const { limiter, clock, keptInRedis } = await limiterAt(60, 3);
    for (let i = 0; i < 3; i++) expect(await limiter.check(alice)).toEqual({ allowed: true });
    expect(await limiter.check(alice)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(await limiter.check({ kind: 'anonymous', address: '203.0.113.9' })).toEqual({
      allowed: true,
    });
    clock.nowMs += 1000;
    expect(await limiter.check(alice)).toEqual({ allowed: true });
    expect((await limiter.check(alice)).allowed).toBe(false);
    expect(await keptInRedis()).toBe(true);
  });
});

describe('GCRA viewer limit on a real Redis clock', () => {
  it('shares one count between two replicas, by Redis TIME', async () => {
    const redis = await redisServers.start();
    const [a, b] = [redisServers.connect(redis), redisServers.connect(redis)];
    await Promise.all([connected(a), connected(b)]);
    // One page per 10 s and a burst of 2: nothing refills while the test runs.
    const limiters = [a, b].map((connection) =>
      createViewerLimiter({ perMinute: 6, burst: 2, connection, metrics: silentSharedMetrics }),
    );

    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push((await limiters[i % 2]!.check(alice)).allowed);

    expect(decisions).toEqual([true, true, false, false, false, false]);
    const stored = await redis.admin.pttl('homepage-bff:v1:gcra:user:alice');
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThanOrEqual(20_000);
  });

  it('fails open to counting in memory when Redis is killed', async () => {
    const redis = await redisServers.start();
    const connection = redisServers.connect(redis, { timeoutMs: 200 });
    await connected(connection);
    const limiter = createViewerLimiter({
      perMinute: 6,
      burst: 2,
      connection,
      metrics: silentSharedMetrics,
    });
    expect((await limiter!.check(alice)).allowed).toBe(true);
    await redis.kill();

    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push((await limiter!.check(alice)).allowed);

    // Pages are still served, and the limit still holds, per replica.
    expect(decisions).toEqual([true, true, false, false]);
  });
});
