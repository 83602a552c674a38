import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import { eventually, useBuiltServers } from './helpers/built-servers.js';
import { heldRecommendations } from './helpers/held-upstream.js';
import { promotion } from './helpers/fixtures.js';
import { useRedis } from './helpers/redis.js';
import { sendJson, type Handler } from './helpers/upstream.js';

// POST /admin/purge on whole servers (build-server.ts): refused without the
// token, and once accepted, the next page on every replica sharing the Redis
// shows what the upstream says now, not what the caches held.

const TOKEN = 'an-admin-token-of-at-least-32-characters';
const start = useBuiltServers();
const redisServers = useRedis();

const purge = (origin: string, query: string, init: RequestInit = {}) =>
  fetch(`${origin}/admin/purge${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
    ...init,
  });

/** A promo service whose one banner's title an operator "fixes" mid-test. */
function editablePromo() {
  const state = { title: 'Wrong price: 1 €' };
  const handler: Handler = (_req, res) =>
    sendJson(res, { promotions: [{ ...promotion('p-1', 'b-1'), title: state.title }] });
  return { state, handler };
}

const bannerOf = async (response: Response): Promise<string> =>
  ((await response.json()) as { data: { homepage: { promo: Array<{ title: string }> } } }).data
    .homepage.promo[0]!.title;

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { lines: unknown[] } {
  const lines: unknown[] = [];
  const keep = (...args: unknown[]) => lines.push(args[0]);
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

describe('POST /admin/purge, refused', () => {
  it('answers 401 ADMIN_UNAUTHORIZED without a token and with a wrong one, and logs a fingerprint, never the token', async () => {
    const logger = recordingLogger();
    const { origin } = await start({ ADMIN_TOKEN: TOKEN }, { logger });
    const wrong = 'short';
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${wrong}` },
      { authorization: TOKEN },
    ];
    for (const headers of attempts) {
      const response = await purge(origin, '?cache=all', { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0]?.extensions.code).toBe('ADMIN_UNAUTHORIZED');
    }
    const refusals = JSON.stringify(
      logger.lines.filter((line) => /refused/.test(JSON.stringify(line))),
    );
    expect(refusals).toContain('127.0.0.1');
    expect(refusals).not.toContain(wrong);
    expect(refusals).not.toContain(TOKEN);
  });

  it('answers 405 to other methods and 400 PURGE_INVALID to a cache it does not know', async () => {
    const { origin } = await start({ ADMIN_TOKEN: TOKEN });
    for (const headers of [{ authorization: `Bearer ${TOKEN}` }, {}] as Array<
      Record<string, string>
    >) {
      const get = await purge(origin, '?cache=all', { method: 'GET', headers });
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
    }
    for (const query of ['', '?cache=everything', '?cache=pages&tag=b-1', '?cache=books&tag=']) {
      const response = await purge(origin, query);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0]?.extensions.code).toBe('PURGE_INVALID');
    }
  });

  it('does not exist without ADMIN_TOKEN: the path is as unknown as any other', async () => {
    const { origin } = await start();
    const response = await purge(origin, '?cache=all');
    const unknown = await fetch(`${origin}/no/such/path`, { method: 'POST' });
    expect(response.status).toBe(unknown.status);
    expect(response.status).not.toBe(200);
    expect(await response.text()).not.toContain('ADMIN_UNAUTHORIZED');
  });

  it('stops startup when ADMIN_TOKEN is shorter than 32 characters', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: 'too-short' })).toThrow(ConfigError);
    expect(() => loadConfig({ ADMIN_TOKEN: 'too-short' })).toThrow(
      /ADMIN_TOKEN: must be at least 32/,
    );
  });
});

describe('POST /admin/purge, accepted', () => {
  it('purges this process without Redis: the next page asks promo again', async () => {
    const promo = editablePromo();
    const replica = await start({ ADMIN_TOKEN: TOKEN }, { handlers: { promo: promo.handler } });
    expect(await bannerOf(await replica.page())).toBe('Wrong price: 1 €');
    expect(await bannerOf(await replica.page())).toBe('Wrong price: 1 €'); // a page-cache hit
    expect(replica.upstreams.promo.requests).toHaveLength(1);

    promo.state.title = 'Right price: 10 €';
    expect(await bannerOf(await replica.page())).toBe('Wrong price: 1 €'); // cached, as designed
    const response = await purge(replica.origin, '?cache=promo');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      purged: ['promo', 'pages'],
      tag: null,
      redis: 'none',
      keysDeleted: 0,
      replicasNotified: null,
    });

    expect(await bannerOf(await replica.page())).toBe('Right price: 10 €');
    expect(replica.upstreams.promo.requests).toHaveLength(2);
  });

  it('is answered while the gateway sheds pages: it runs before admission', async () => {
    const held = heldRecommendations();
    const replica = await start(
      { ADMIN_TOKEN: TOKEN, MAX_IN_FLIGHT: '1' },
      { handlers: { recommendations: held.handler } },
    );
    const inFlight = replica.page();
    await eventually(async () => replica.upstreams.recommendations.requests.length === 1);
    const shed = await replica.page();
    expect(shed.status).toBe(503);
    expect(
      ((await shed.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]
        ?.extensions.code,
    ).toBe('OVERLOADED');

    const response = await purge(replica.origin, '?cache=pages');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ purged: ['pages'] });
    held.release();
    expect((await inFlight).status).toBe(200);
  });

  it('purges two replicas sharing one Redis: the next page on each shows the corrected banner', async () => {
    const redis = await redisServers.start();
    const promo = editablePromo();
    const env = { ADMIN_TOKEN: TOKEN, REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '1000' };
    const a = await start(env, { handlers: { promo: promo.handler } });
    const b = await start(env, { handlers: { promo: promo.handler } });
    await Promise.all([a.redisUp(), b.redisUp()]);

    expect(await bannerOf(await a.page())).toBe('Wrong price: 1 €');
    // B reads A's page from Redis (no promo call of its own) and keeps it in memory.
    await eventually(async () => (await redis.admin.keys('homepage-bff:v1:page:*')).length > 0);
    expect(await bannerOf(await b.page())).toBe('Wrong price: 1 €');
    expect(b.upstreams.promo.requests).toHaveLength(0);

    promo.state.title = 'Right price: 10 €';
    expect(await bannerOf(await b.page())).toBe('Wrong price: 1 €'); // still cached
    const response = await purge(a.origin, '?cache=all');
    expect(response.status).toBe(200);
    const result = (await response.json()) as Record<string, unknown>;
    expect(result).toMatchObject({ purged: ['promo', 'books', 'pages'], redis: 'purged' });
    expect(result.replicasNotified).toBe(2);
    expect(result.keysDeleted).toBeGreaterThan(0);

    // A purged itself before answering: its next page fetches promo again.
    expect(await bannerOf(await a.page())).toBe('Right price: 10 €');
    expect(a.upstreams.promo.requests).toHaveLength(2);
    // B learns it from the message (delivered asynchronously): never the old banner again.
    await eventually(async () => (await bannerOf(await b.page())) === 'Right price: 10 €');
  });

  it('purges one book by tag, in memory and in Redis', async () => {
    const redis = await redisServers.start();
    const env = { ADMIN_TOKEN: TOKEN, REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '1000' };
    const replica = await start(env);
    await replica.redisUp();
    await replica.page();
    await eventually(async () => (await redis.admin.exists('homepage-bff:v1:book:b-1')) === 1);
    const response = await purge(replica.origin, '?cache=books&tag=b-1');
    expect(await response.json()).toMatchObject({ purged: ['books', 'pages'], tag: 'b-1' });
    expect(await redis.admin.exists('homepage-bff:v1:book:b-1')).toBe(0);
    expect(await redis.admin.exists('homepage-bff:v1:book:b-2')).toBe(1);

    const before = replica.upstreams.catalog.requests.length;
    await replica.page();
    const asked = replica.upstreams.catalog.requests.slice(before);
    expect(asked.map((request) => request.url.searchParams.get('ids'))).toEqual(['b-1']);
  });

  it('applies a purge it missed while its subscriber was disconnected, once it reconnects', async () => {
    const redis = await redisServers.start();
    const env = { ADMIN_TOKEN: TOKEN, REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '1000' };
    const replica = await start(env);
    // Subscribed (and so past its first look at the generations) before it is cut off.
    await eventually(async () => {
      const [, subscribers] = (await redis.admin.pubsub('NUMSUB', 'homepage-bff:v1:purge')) as [
        string,
        number,
      ];
      return subscribers === 1;
    });
    await replica.page();
    const timing = async () => (await replica.page()).headers.get('server-timing') ?? '';
    expect(await timing()).toContain('cache;desc=hit');

    // Another replica's purge whose message this one never heard: Redis emptied
    // and the generation bumped while its subscriber was cut off.
    await redis.admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    const pages = await redis.admin.keys('homepage-bff:v1:page:*');
    if (pages.length > 0) await redis.admin.del(...pages);
    await redis.admin.hincrby('homepage-bff:v1:purge', 'pages', 1);

    await eventually(async () => (await timing()).includes('cache;desc=miss'));
  });
});
