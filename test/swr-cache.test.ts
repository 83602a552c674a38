import { describe, expect, it } from 'vitest';
import {
  createSwrCache,
  type RefreshClaim,
  type SwrEntry,
  type SwrSharedLevel,
} from '../src/cache/swr-cache.js';
import { UpstreamError } from '../src/errors/upstream-error.js';
import { silentLogger } from '../src/logger.js';
import { RequestRecord } from '../src/observability/request-record.js';

/** A call with no deadline, or one `deadlineMs` from now. */
const call = (deadlineMs?: number) => ({ record: RequestRecord.detached({ deadlineMs }) });

/** A cache over a scripted loader and a hand-moved clock. */
function setup(
  options: {
    ttlMs?: number;
    staleWhileRevalidateMs?: number;
    staleIfErrorMs?: number;
    shared?: SwrSharedLevel<string>;
    onHit?: (level: 'memory' | 'redis') => void;
  } = {},
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
    shared: options.shared,
    onHit: options.onHit,
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

/** A second level as another replica would see it: what it holds, and what it was asked. */
function sharedLevel(init: { stored?: SwrEntry<string>; claim?: RefreshClaim['kind'] } = {}) {
  const level = {
    stored: init.stored,
    reads: 0,
    writes: [] as Array<SwrEntry<string>>,
    /** Resolves a waiting replica with the other replica's entry. */
    theirs: undefined as SwrEntry<string> | undefined,
    localTtlMs: 100,
    async read() {
      level.reads++;
      return level.stored;
    },
    write(entry: SwrEntry<string>) {
      level.writes.push(entry);
      level.stored = entry;
    },
    async claimRefresh(): Promise<RefreshClaim> {
      const kind = init.claim ?? 'mine';
      return kind === 'mine' ? { kind, release: () => {} } : { kind };
    },
    async awaitRefresh() {
      return level.theirs;
    },
  };
  return level;
}

const entryAt = (value: string, storedAt: number): SwrEntry<string> => ({
  value,
  storedAt,
  freshUntil: storedAt + 1000,
  revalidateUntil: storedAt + 2000,
  staleIfErrorUntil: storedAt + 10_000,
});

describe('promo cache with a level shared by replicas', () => {
  it('serves what another replica stored, without loading', async () => {
    const level = sharedLevel({ stored: entryAt('theirs', 1_000_000 - 200) });
    const hits: string[] = [];
    const { cache, loads } = setup({ shared: level, onHit: (hit) => hits.push(hit) });

    expect(await cache.get(call())).toEqual({
      value: 'theirs',
      freshness: { state: 'fresh', ageMs: 200, freshForMs: 800 },
    });
    expect(loads).toHaveLength(0);
    expect(hits).toEqual(['redis']);
  });

  it('stores what it loads with absolute timestamps, so every replica judges it alike', async () => {
    const level = sharedLevel();
    const { prime } = setup({ shared: level, ttlMs: 1000, staleWhileRevalidateMs: 500 });
    await prime('v1');
    expect(level.writes).toEqual([
      {
        value: 'v1',
        storedAt: 1_000_000,
        freshUntil: 1_001_000,
        revalidateUntil: 1_001_500,
        staleIfErrorUntil: 1_011_000,
      },
    ]);
  });

  it('asks the shared level again only once its own copy is localTtlMs old', async () => {
    const level = sharedLevel();
    const hits: string[] = [];
    const { cache, prime, advance } = setup({ shared: level, onHit: (hit) => hits.push(hit) });
    await prime('v1');
    const readsAfterLoad = level.reads;
    advance(50);
    await cache.get(call());
    expect(level.reads).toBe(readsAfterLoad);
    advance(60);
    await cache.get(call());
    expect(level.reads).toBe(readsAfterLoad + 1);
    expect(hits).toEqual(['memory', 'memory']);
  });

  it('waits for the replica that claimed the refresh and serves its value, loading nothing', async () => {
    const level = sharedLevel({ claim: 'theirs' });
    level.theirs = entryAt('theirs', 1_000_000);
    const { cache, loads } = setup({ shared: level });
    expect((await cache.get(call())).value).toBe('theirs');
    expect(loads).toHaveLength(0);
  });

  it('loads itself when the claiming replica gives up', async () => {
    const level = sharedLevel({ claim: 'theirs' });
    const { cache, loads, settle } = setup({ shared: level });
    const got = cache.get(call());
    await settle();
    loads[0]?.resolve({ value: 'mine' });
    expect((await got).value).toBe('mine');
    expect(loads).toHaveLength(1);
  });

  it('falls back to single flight in this process when the shared level is unavailable', async () => {
    const level = sharedLevel({ claim: 'unavailable' });
    const { cache, loads, settle } = setup({ shared: level });
    const all = Promise.all([cache.get(call()), cache.get(call()), cache.get(call())]);
    await settle();
    loads[0]?.resolve({ value: 'v1' });
    expect((await all).map((r) => r.value)).toEqual(['v1', 'v1', 'v1']);
    expect(loads).toHaveLength(1);
  });

  it('keeps its own copy over an older one in the shared level', async () => {
    const level = sharedLevel();
    const { cache, prime, advance } = setup({ shared: level });
    await prime('new');
    level.stored = entryAt('old', 1_000_000 - 5000);
    advance(200); // past localTtlMs: the shared level is read again
    expect((await cache.get(call())).value).toBe('new');
  });
});
