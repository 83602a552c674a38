import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { forwardVariant, normaliseForwardedValue } from '../src/outbound/forward-headers.js';
import { eventually, useBuiltServers, type BuiltReplica } from './helpers/built-servers.js';
import { TEST_SECRET } from './helpers/gateway.js';
import { promotion } from './helpers/fixtures.js';
import { useRedis } from './helpers/redis.js';
import { sendJson, type Handler } from './helpers/upstream.js';
import { signToken } from '../src/auth.js';

// PROMO_FORWARD_HEADERS=accept-language: promo answers banners in the visitor's
// language, and no cache (the page cache, the promo cache, Redis) ever serves
// one language's answer to a visitor asking for another.

const start = useBuiltServers();
const redisServers = useRedis();

/** Promo answering in the language it is asked for. */
const localizedPromo: Handler = (req, res) => {
  const language = req.headers['accept-language'] ?? 'none';
  sendJson(res, {
    promotions: [{ ...promotion('p-1', 'b-1'), title: `Banner in ${String(language)}` }],
  });
};

const GERMAN = { 'accept-language': 'de-DE' };
const ENGLISH = { 'accept-language': 'en' };

const bannerOf = async (response: Response): Promise<string> =>
  ((await response.json()) as { data: { homepage: { promo: Array<{ title: string }> } } }).data
    .homepage.promo[0]!.title;

async function signedIn(replica: BuiltReplica, headers: Record<string, string>) {
  const token = await signToken(TEST_SECRET, 'u-1');
  return replica.page({ ...headers, authorization: `Bearer ${token}` });
}

describe('<SERVICE>_FORWARD_HEADERS, configured', () => {
  it('reads a comma-separated list of names, lowercased, nothing by default', () => {
    const config = loadConfig({ PROMO_FORWARD_HEADERS: ' Accept-Language , X-Country,' });
    expect(config.forwardHeaders).toEqual({
      promo: ['accept-language', 'x-country'],
      recommendations: [],
      catalog: [],
    });
  });

  it.each([
    ['authorization', /PROMO_FORWARD_HEADERS: "authorization" cannot be forwarded: credentials/],
    ['cookie', /"cookie" cannot be forwarded: credentials/],
    ['connection', /"connection" cannot be forwarded: a hop-by-hop/],
    ['accept-language, not a header', /"not a header" is not a valid header name/],
  ])('refuses %s at startup, saying why', (list, message) => {
    expect(() => loadConfig({ PROMO_FORWARD_HEADERS: list })).toThrow(ConfigError);
    expect(() => loadConfig({ PROMO_FORWARD_HEADERS: list })).toThrow(message);
  });

  it('keys trivially different values alike, and different languages apart', () => {
    expect(normaliseForwardedValue('  de-DE,\t en;q=0.5 ')).toBe('de-de, en;q=0.5');
    expect(normaliseForwardedValue('x'.repeat(500))).toHaveLength(128);
    const variant = (value: string) =>
      forwardVariant(['accept-language'], new Headers({ 'accept-language': value }));
    expect(variant('de-DE ')).toBe(variant('de-de'));
    expect(variant('de-DE')).not.toBe(variant('en'));
    expect(forwardVariant([], new Headers(GERMAN))).toBe('');
  });
});

describe('<SERVICE>_FORWARD_HEADERS, serving', () => {
  it('forwards the normalised value to that service only, and names it in Vary', async () => {
    const replica = await start(
      { PROMO_FORWARD_HEADERS: 'accept-language' },
      { handlers: { promo: localizedPromo } },
    );
    const response = await replica.page({ 'accept-language': ' de-DE ' });
    expect(response.headers.get('vary')).toMatch(/accept-language/i);
    expect(await bannerOf(response)).toBe('Banner in de-de');
    expect(replica.upstreams.promo.requests[0]?.headers['accept-language']).toBe('de-de');
    const others = [
      ...replica.upstreams.catalog.requests,
      ...replica.upstreams.recommendations.requests,
    ];
    expect(others.length).toBeGreaterThan(0);
    for (const request of others) expect(request.headers['accept-language']).toBeUndefined();
  });

  it('never swaps German and English pages through the page cache or Redis, on two replicas', async () => {
    const redis = await redisServers.start();
    const env = {
      PROMO_FORWARD_HEADERS: 'accept-language',
      REDIS_URL: redis.url,
      REDIS_TIMEOUT_MS: '1000',
    };
    const a = await start(env, { handlers: { promo: localizedPromo } });
    const b = await start(env, { handlers: { promo: localizedPromo } });
    await Promise.all([a.redisUp(), b.redisUp()]);

    // Anonymous pages, through the page cache: each language its own page.
    expect(await bannerOf(await a.page(GERMAN))).toBe('Banner in de-de');
    expect(await bannerOf(await a.page(ENGLISH))).toBe('Banner in en');
    expect(await bannerOf(await a.page(GERMAN))).toBe('Banner in de-de');
    await eventually(async () => (await redis.admin.keys('homepage-bff:v1:page:*')).length === 2);
    // B serves both from Redis, each to its own language, asking promo nothing.
    expect(await bannerOf(await b.page(ENGLISH))).toBe('Banner in en');
    expect(await bannerOf(await b.page(GERMAN))).toBe('Banner in de-de');
    expect(b.upstreams.promo.requests).toHaveLength(0);

    // Signed-in pages skip the page cache: the promo cache's variants in Redis.
    await eventually(
      async () => (await redis.admin.keys('homepage-bff:v1:{promo}:*')).length === 2,
    );
    expect(await bannerOf(await signedIn(b, ENGLISH))).toBe('Banner in en');
    expect(await bannerOf(await signedIn(b, GERMAN))).toBe('Banner in de-de');
    expect(b.upstreams.promo.requests).toHaveLength(0);
    // A language nobody asked for yet is its own variant: fetched, not borrowed.
    expect(await bannerOf(await signedIn(b, { 'accept-language': 'fr' }))).toBe('Banner in fr');
    expect(b.upstreams.promo.requests.map((request) => request.headers['accept-language'])).toEqual(
      ['fr'],
    );
    expect(a.upstreams.promo.requests.map((request) => request.headers['accept-language'])).toEqual(
      ['de-de', 'en'],
    );
  });
});
