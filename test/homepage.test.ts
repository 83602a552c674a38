import { describe, expect, it } from 'vitest';
import { book, POPULAR, PROMOTIONS } from './helpers/fixtures.js';
import { HOMEPAGE_QUERY, useTestBeds } from './helpers/gateway.js';
import { sendJson } from './helpers/upstream.js';

const startBed = useTestBeds();

describe('homepage', () => {
  it('returns promo banners and popular recommendations with their books for an anonymous visitor', async () => {
    const bed = await startBed();
    const { status, body } = await bed.query(HOMEPAGE_QUERY);

    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.promo).toEqual([
      {
        id: 'p-1',
        title: 'Banner p-1',
        imageUrl: 'https://img.test/p-1.png',
        link: '/campaigns/p-1',
        startsAt: '2026-11-01T00:00:00.000Z',
        endsAt: '2026-12-01T00:00:00.000Z',
        book: book('b-1'),
      },
      {
        id: 'p-2',
        title: 'Banner p-2',
        imageUrl: 'https://img.test/p-2.png',
        link: '/campaigns/p-2',
        startsAt: '2026-11-01T00:00:00.000Z',
        endsAt: '2026-12-01T00:00:00.000Z',
        book: null,
      },
    ]);
    expect(body.data?.homepage.recommendations).toEqual(
      POPULAR.map(({ bookId, score, reason }) => ({
        score,
        reason,
        book: {
          id: bookId,
          title: `Title of ${bookId}`,
          authors: [`Author of ${bookId}`],
          price: { amount: 1299, currency: 'EUR' },
          coverUrl: `https://img.test/${bookId}.jpg`,
        },
      })),
    );
    expect(
      bed.upstreams.recommendations.requests.map((r) => r.url.pathname + r.url.search),
    ).toEqual(['/recommendations/popular?limit=10']);
  });

  it("asks for the signed-in user's recommendations, with the requested limit", async () => {
    const bed = await startBed();
    const token = await bed.tokenFor('u-42');
    const { body } = await bed.query(HOMEPAGE_QUERY, {
      variables: { limit: 3 },
      authorization: `Bearer ${token}`,
    });

    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.recommendations).toEqual([
      expect.objectContaining({
        score: 0.99,
        reason: 'Picked for u-42',
        book: expect.objectContaining({ id: 'b-u-42' }),
      }),
    ]);
    const [request] = bed.upstreams.recommendations.requests;
    expect(request?.url.pathname).toBe('/users/u-42/recommendations');
    expect(request?.url.searchParams.get('limit')).toBe('3');
  });

  it.each([0, 51, -1, null])(
    'rejects recommendations(limit: %s) with BAD_USER_INPUT and calls no upstream for it',
    async (limit) => {
      const bed = await startBed();
      const { status, body } = await bed.query(HOMEPAGE_QUERY, { variables: { limit } });

      expect(status).toBe(200);
      expect(body.data?.homepage.recommendations).toBeNull();
      expect(body.data?.homepage.promo).toHaveLength(2);
      expect(body.errors).toEqual([
        expect.objectContaining({
          message: `recommendations(limit:) must be between 1 and 50; got ${limit}.`,
          path: ['homepage', 'recommendations'],
          extensions: { code: 'BAD_USER_INPUT' },
        }),
      ]);
      expect(bed.upstreams.recommendations.requests).toHaveLength(0);
    },
  );

  it('accepts the limits 1 and 50', async () => {
    const bed = await startBed();
    for (const limit of [1, 50]) {
      const { body } = await bed.query(HOMEPAGE_QUERY, { variables: { limit } });
      expect(body.errors).toBeUndefined();
    }
    expect(
      bed.upstreams.recommendations.requests.map((r) => r.url.searchParams.get('limit')),
    ).toEqual(['1', '50']);
  });

  it('requests promo and recommendations at the same time', async () => {
    // Each upstream holds its answer until it has seen the other's request (or 3 s
    // pass). Sequential resolution would make the first wait out its 3 s and the
    // log would show it answered before the second request arrived.
    const log: string[] = [];
    let promoArrived!: () => void;
    let recommendationsArrived!: () => void;
    const arrived = {
      promo: new Promise<void>((resolve) => (promoArrived = resolve)),
      recommendations: new Promise<void>((resolve) => (recommendationsArrived = resolve)),
    };
    const waitFor = (other: Promise<void>) =>
      Promise.race([other, new Promise((resolve) => setTimeout(resolve, 3000))]);

    const bed = await startBed({
      timeoutsMs: { promo: 5000, recommendations: 5000 },
      handlers: {
        promo: async (_req, res) => {
          log.push('promo arrived');
          promoArrived();
          await waitFor(arrived.recommendations);
          log.push('promo answered');
          sendJson(res, { promotions: PROMOTIONS });
        },
        recommendations: async (_req, res) => {
          log.push('recommendations arrived');
          recommendationsArrived();
          await waitFor(arrived.promo);
          log.push('recommendations answered');
          sendJson(res, { items: POPULAR });
        },
      },
    });
    const { body } = await bed.query(HOMEPAGE_QUERY);

    expect(body.errors).toBeUndefined();
    expect(log.slice(0, 2).sort()).toEqual(['promo arrived', 'recommendations arrived']);
    expect(log.slice(2).sort()).toEqual(['promo answered', 'recommendations answered']);
  });
});
