import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../src/app.js';
import { signToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { DEMO_JWT_SECRET } from '../src/demo/settings.js';
import { BOOKS } from '../src/demo/data.js';
import { startDemoServices, type DemoServices } from '../src/demo/services.js';
import { testGatewayOptions } from './helpers/gateway.js';
import { ActivePromotionsEnvelope, Promotion } from '../src/upstreams/promo/schema.js';
import { Book, BooksEnvelope } from '../src/upstreams/catalog/schema.js';
import {
  RecommendationItem,
  UserRecommendationsEnvelope,
} from '../src/upstreams/recommendations/schema.js';

let demo: DemoServices | undefined;
afterEach(async () => {
  await demo?.close();
  demo = undefined;
});

const healthy = loadConfig({}).demo;
const getJson = async (url: string) => (await fetch(url)).json();

async function homepage(services: DemoServices, authorization?: string) {
  const gateway = createGateway({
    ...testGatewayOptions(services.urls, {
      timeoutsMs: { promo: 300, recommendations: 300, catalog: 300 },
      requestDeadlineMs: 2000,
    }),
    auth: { secret: DEMO_JWT_SECRET, jwksUrl: null, issuer: undefined, audience: undefined },
  });
  const response = await gateway.fetch('http://gateway.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({
      query:
        '{ homepage { promo { id book { title } } recommendations { reason book { id title authors } } } }',
    }),
  });
  return response.json();
}

describe('demo services', () => {
  it('serve a few hundred books that honour the catalog contract', async () => {
    demo = await startDemoServices(healthy);
    const ids = [...BOOKS.keys()];
    expect(ids.length).toBeGreaterThanOrEqual(200);

    const first = await getJson(`${demo.urls.catalog}/books?ids=${ids.slice(0, 100).join(',')}`);
    const { books } = BooksEnvelope.parse(first);
    expect(books).toHaveLength(100);
    for (const book of books) expect(Book.safeParse(book).success).toBe(true);
    // Plausible, not placeholder: titles differ and authors have a first and last name.
    expect(new Set(books.map((b) => Book.parse(b).title)).size).toBeGreaterThan(80);
    expect(Book.parse(books[0]).authors[0]).toMatch(/^\S+ \S+$/);
  });

  it('serve active promotions and per-user picks that honour their contracts', async () => {
    demo = await startDemoServices(healthy);
    const { promotions } = ActivePromotionsEnvelope.parse(
      await getJson(`${demo.urls.promo}/promotions/active`),
    );
    expect(promotions.length).toBeGreaterThanOrEqual(3);
    for (const promotion of promotions) expect(Promotion.safeParse(promotion).success).toBe(true);

    const picks = UserRecommendationsEnvelope.parse(
      await getJson(`${demo.urls.recommendations}/users/u-42/recommendations?limit=10`),
    );
    expect(picks.userId).toBe('u-42');
    expect(picks.items).toHaveLength(10);
    for (const item of picks.items) expect(RecommendationItem.safeParse(item).success).toBe(true);
  });

  it('give different users different picks, and the same user the same ones on every service instance', async () => {
    const picks = async (services: DemoServices, userId: string, limit: number) =>
      (
        (await getJson(
          `${services.urls.recommendations}/users/${userId}/recommendations?limit=${limit}`,
        )) as { items: Array<{ bookId: string }> }
      ).items.map((pick) => pick.bookId);
    demo = await startDemoServices(healthy);
    const other = await startDemoServices(healthy);
    try {
      const first = await picks(demo, 'u-1', 10);
      expect(first).toHaveLength(10);
      expect(await picks(demo, 'u-2', 10)).not.toEqual(first);
      // Another instance (its own process state) answers the same, and a longer
      // list starts with the shorter one: stable per user, not per call.
      expect(await picks(other, 'u-1', 10)).toEqual(first);
      expect((await picks(other, 'u-1', 20)).slice(0, 10)).toEqual(first);
    } finally {
      await other.close();
    }
  });

  it('feed a complete homepage through the gateway, personal when signed in', async () => {
    demo = await startDemoServices(healthy);
    const anonymous = await homepage(demo);
    const token = await signToken(DEMO_JWT_SECRET, 'u-42');
    const personal = await homepage(demo, `Bearer ${token}`);

    expect(anonymous.errors).toBeUndefined();
    expect(personal.errors).toBeUndefined();
    expect(anonymous.data.homepage.promo.length).toBeGreaterThan(0);
    expect(anonymous.data.homepage.recommendations).toHaveLength(10);
    expect(personal.data.homepage.recommendations[0].book.title).toEqual(expect.any(String));
    expect(personal.data.homepage.recommendations).not.toEqual(
      anonymous.data.homepage.recommendations,
    );
  });

  it.each([
    ['error', 'UPSTREAM_UNAVAILABLE'],
    ['hang', 'UPSTREAM_TIMEOUT'],
    ['garbage', 'UPSTREAM_BAD_RESPONSE'],
    ['malformed', 'UPSTREAM_BAD_RESPONSE'],
  ] as const)('show partial data when told to fail with "%s"', async (fault, code) => {
    demo = await startDemoServices({ ...healthy, recommendations: { latencyMs: 0, fault } });
    const { data, errors } = await homepage(demo);

    expect(data.homepage.promo.length).toBeGreaterThan(0);
    expect(data.homepage.recommendations).toBeNull();
    expect(errors).toEqual([
      expect.objectContaining({
        path: ['homepage', 'recommendations'],
        extensions: { code, service: 'recommendations' },
      }),
    ]);
  });

  it('add the configured latency: slower than the gateway timeout means UPSTREAM_TIMEOUT', async () => {
    demo = await startDemoServices({ ...healthy, promo: { latencyMs: 1000, fault: 'none' } });
    const { data, errors } = await homepage(demo);

    expect(data.homepage.promo).toBeNull();
    expect(data.homepage.recommendations).toHaveLength(10);
    expect(errors?.[0]?.extensions).toEqual({ code: 'UPSTREAM_TIMEOUT', service: 'promo' });
  });
});
