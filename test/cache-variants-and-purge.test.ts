import { describe, expect, it } from 'vitest';
import { createBookCache } from '../src/cache/book-cache.js';
import { createSwrCache } from '../src/cache/swr-cache.js';
import { createVariantSwrCache } from '../src/cache/variant-swr-cache.js';
import { createMemoryPageStore, type StoredPage } from '../src/inbound/page-store.js';
import { silentLogger } from '../src/logger.js';
import { silentSharedMetrics } from '../src/observability/metrics.js';
import { RequestRecord } from '../src/observability/request-record.js';
import { forwardVariant } from '../src/outbound/forward-headers.js';
import { book } from './helpers/fixtures.js';

// The caches' own halves of purging and of forwarded headers, without HTTP.

const callIn = (language?: string) => ({
  record: RequestRecord.detached({
    clientHeaders: new Headers(language ? { 'accept-language': language } : {}),
  }),
});

/** A promo-like cache whose loads the test resolves by hand, in order. */
function scriptedCache() {
  const loads: Array<(value: string) => void> = [];
  const cache = createSwrCache<string>({
    service: 'promo',
    load: () =>
      new Promise((resolve) => loads.push((value) => resolve({ value, maxAgeMs: undefined }))),
    ttlMs: 60_000,
    staleWhileRevalidateMs: 0,
    staleIfErrorMs: 0,
    logger: silentLogger,
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { cache, loads, settle };
}

describe('purging the promo cache', () => {
  it('loads again after a purge, though the value was fresh', async () => {
    const { cache, loads, settle } = scriptedCache();
    const first = cache.get(callIn());
    await settle();
    loads[0]?.('old');
    expect((await first).value).toBe('old');
    expect((await cache.get(callIn())).value).toBe('old');
    expect(loads).toHaveLength(1);

    cache.purge();
    const next = cache.get(callIn());
    await settle();
    expect(loads).toHaveLength(2);
    loads[1]?.('new');
    expect((await next).value).toBe('new');
  });

  it('serves a load under way at the purge to its caller, but does not keep it', async () => {
    const { cache, loads, settle } = scriptedCache();
    const during = cache.get(callIn());
    await settle();
    cache.purge();
    const after = cache.get(callIn()); // not joined to the load from before the purge
    await settle();
    expect(loads).toHaveLength(2);
    // The older load ends last: kept, it would replace the newer value.
    loads[1]?.('from after');
    expect((await after).value).toBe('from after');
    loads[0]?.('from before');
    expect((await during).value).toBe('from before');
    expect((await cache.get(callIn())).value).toBe('from after');
    expect(loads).toHaveLength(2);
  });
});

describe('caches keyed by forwarded headers', () => {
  it('keeps one promo cache per variant, and purges them all', async () => {
    const made: string[] = [];
    const cache = createVariantSwrCache<string>({
      variantOf: ({ record }) => forwardVariant(['accept-language'], record.clientHeaders),
      create: (variant) => {
        made.push(variant);
        return createSwrCache({
          service: 'promo',
          load: async (trigger) => ({
            value: `banner for ${trigger.record.clientHeaders.get('accept-language')}`,
            maxAgeMs: undefined,
          }),
          ttlMs: 60_000,
          staleWhileRevalidateMs: 0,
          staleIfErrorMs: 0,
          logger: silentLogger,
        });
      },
    });
    expect((await cache.get(callIn('de'))).value).toBe('banner for de');
    expect((await cache.get(callIn('en'))).value).toBe('banner for en');
    expect((await cache.get(callIn('de'))).value).toBe('banner for de');
    expect(made).toHaveLength(2);
    cache.purge();
    await cache.get(callIn('de'));
    expect(made).toHaveLength(3);
  });

  it("never gives one language's books to another when the catalog reads Accept-Language", async () => {
    const books = createBookCache({
      ttlMs: 60_000,
      maxEntries: 100,
      metrics: silentSharedMetrics,
      forwardHeaders: ['accept-language'],
    });
    const german = new Headers({ 'accept-language': 'de' });
    books.setMany(new Map([['b-1', { ...book('b-1'), title: 'Titel' }]]), german);
    expect((await books.getMany(['b-1'], german)).get('b-1')?.book.title).toBe('Titel');
    expect((await books.getMany(['b-1'], new Headers({ 'accept-language': 'en' }))).size).toBe(0);
    books.purge('b-1');
    expect((await books.getMany(['b-1'], german)).size).toBe(0);
  });
});

describe('purging the page store', () => {
  it('forgets its pages and refuses a page whose data was read before the purge', () => {
    let time = 1_000_000;
    const store = createMemoryPageStore({ maxBytes: 1 << 20, now: () => time });
    const page = (storedAt: number): StoredPage => ({
      status: 200,
      headers: {},
      body: Buffer.from('{}'),
      etag: '"e"',
      storedAt,
      freshUntil: storedAt + 10_000,
      staleUntil: storedAt + 20_000,
      replay: { method: 'GET', url: 'http://gateway/graphql', headers: {}, body: null },
    });
    store.set('a', page(time));
    const startedBeforePurge = time;
    time += 10;
    store.clear?.();
    expect(store.get('a')).toBeUndefined();
    store.set('b', page(startedBeforePurge)); // a run under way at the purge ends
    expect(store.get('b')).toBeUndefined();
    store.set('c', page(time));
    expect(store.get('c')).toBeDefined();
  });
});
