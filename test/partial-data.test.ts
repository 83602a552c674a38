import { describe, expect, it } from 'vitest';
import { FAULTS } from './helpers/misbehaving.js';
import {
  HOMEPAGE_QUERY,
  useTestBeds,
  type GraphQLResult,
  type TestBed,
} from './helpers/gateway.js';
import { refusedUrl, sendJson } from './helpers/upstream.js';
import { POPULAR, PROMOTIONS, promotion } from './helpers/fixtures.js';

const startBed = useTestBeds();

/** Timeouts are short so that hanging upstreams keep the suite quick. */
const timeoutsMs = { promo: 300, recommendations: 300, catalog: 300 };
const requestDeadlineMs = 1500;

/**
 * Runs a query and checks it was answered by the deadline. The margin is wide on
 * purpose: this catches a page that waits on a hung upstream, not a slow machine.
 * (Unhandled rejections fail the run: vitest reports them as errors.)
 */
async function queryByDeadline(bed: TestBed, query: string) {
  const started = performance.now();
  const result = await bed.query(query);
  expect(performance.now() - started).toBeLessThan(requestDeadlineMs + 1000);
  return result;
}

function expectNoInternals({ body }: GraphQLResult) {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(
    /127\.0\.0\.1|https?:\/\/(?!img\.test)|stack|ZodError|invalid_type|\bat \w+ \(/,
  );
}

const FAULT_CASES = [
  ...FAULTS,
  { name: 'refuses connections', code: 'UPSTREAM_UNAVAILABLE', handler: undefined, calls: 0 },
];

describe('partial data when promo fails', () => {
  it.each(FAULT_CASES)(
    'promo $name: promo is null with $code after $calls call(s), recommendations intact',
    async ({ handler, code, calls }) => {
      const bed = await startBed({
        timeoutsMs,
        requestDeadlineMs,
        ...(handler ? { handlers: { promo: handler } } : { urls: { promo: await refusedUrl() } }),
      });
      const result = await queryByDeadline(bed, HOMEPAGE_QUERY);

      expect(result.status).toBe(200);
      expect(result.body.data?.homepage.promo).toBeNull();
      expect(
        result.body.data?.homepage.recommendations.map((r: { book: { id: string } }) => r.book.id),
      ).toEqual(POPULAR.map((p) => p.bookId));
      expect(result.body.errors).toEqual([
        {
          message: expect.any(String),
          locations: expect.any(Array),
          path: ['homepage', 'promo'],
          extensions: { code, service: 'promo' },
        },
      ]);
      expect(bed.upstreams.promo.requests).toHaveLength(calls);
      expectNoInternals(result);
    },
  );
});

describe('partial data when recommendations fail', () => {
  it.each(FAULT_CASES)(
    'recommendations $name: recommendations null with $code after $calls call(s), promo intact',
    async ({ handler, code, calls }) => {
      const bed = await startBed({
        timeoutsMs,
        requestDeadlineMs,
        ...(handler
          ? { handlers: { recommendations: handler } }
          : { urls: { recommendations: await refusedUrl() } }),
      });
      const result = await queryByDeadline(bed, HOMEPAGE_QUERY);

      expect(result.status).toBe(200);
      expect(result.body.data?.homepage.recommendations).toBeNull();
      expect(result.body.data?.homepage.promo.map((p: { id: string }) => p.id)).toEqual(
        PROMOTIONS.map((p) => p.id),
      );
      expect(result.body.errors).toEqual([
        expect.objectContaining({
          path: ['homepage', 'recommendations'],
          extensions: { code, service: 'recommendations' },
        }),
      ]);
      expect(bed.upstreams.recommendations.requests).toHaveLength(calls);
      expectNoInternals(result);
    },
  );
});

describe('partial data when the catalog fails', () => {
  it.each(FAULT_CASES)(
    'catalog $name: each book is null with $code, the lists stay',
    async ({ handler, code }) => {
      const bed = await startBed({
        timeoutsMs,
        requestDeadlineMs,
        ...(handler
          ? { handlers: { catalog: handler } }
          : { urls: { catalog: await refusedUrl() } }),
      });
      const result = await queryByDeadline(bed, HOMEPAGE_QUERY);
      const { promo, recommendations } = result.body.data?.homepage ?? {};

      expect(result.status).toBe(200);
      expect(promo.map((p: { id: string; book: unknown }) => [p.id, p.book])).toEqual([
        ['p-1', null],
        ['p-2', null],
      ]);
      expect(
        recommendations.map((r: { score: number; book: unknown }) => [r.score, r.book]),
      ).toEqual([
        [0.9, null],
        [0.8, null],
      ]);
      // One error per book that could not be loaded, at that book's path.
      expect(result.body.errors?.map((e) => [e.path, e.extensions]).sort()).toEqual(
        [
          [['homepage', 'promo', 0, 'book'], { code, service: 'catalog' }],
          [['homepage', 'recommendations', 0, 'book'], { code, service: 'catalog' }],
          [['homepage', 'recommendations', 1, 'book'], { code, service: 'catalog' }],
        ].sort(),
      );
      expectNoInternals(result);
    },
  );
});

describe('promo and recommendations failing together', () => {
  it.each(FAULTS)(
    'both $name: a homepage of nulls, each field with $code',
    async ({ handler, code, calls }) => {
      const bed = await startBed({
        timeoutsMs,
        requestDeadlineMs,
        handlers: { promo: handler, recommendations: handler },
      });
      const result = await queryByDeadline(bed, HOMEPAGE_QUERY);

      expect(result.status).toBe(200);
      expect(result.body.data).toEqual({ homepage: { promo: null, recommendations: null } });
      // Sorted: the two fields fail concurrently, in either order.
      const errors = result.body.errors?.map((e) => [e.path, e.extensions]);
      expect(errors?.sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
        [['homepage', 'promo'], { code, service: 'promo' }],
        [['homepage', 'recommendations'], { code, service: 'recommendations' }],
      ]);
      expect(bed.upstreams.promo.requests).toHaveLength(calls);
      expect(bed.upstreams.recommendations.requests).toHaveLength(calls);
      expect(bed.upstreams.catalog.requests).toHaveLength(0);
      expectNoInternals(result);
    },
  );
});

describe('everything failing at once', () => {
  it('still answers 200 with a homepage of nulls and one coded error per field', async () => {
    const refused = await refusedUrl();
    const bed = await startBed({
      urls: { promo: refused, recommendations: refused, catalog: refused },
    });
    const result = await bed.query(HOMEPAGE_QUERY);

    expect(result.status).toBe(200);
    expect(result.body.data).toEqual({ homepage: { promo: null, recommendations: null } });
    expect(result.body.errors?.map((e) => e.extensions?.service).sort()).toEqual([
      'promo',
      'recommendations',
    ]);
  });
});

describe('validation at the boundary', () => {
  it('drops a malformed promotion and keeps the valid ones', async () => {
    const bed = await startBed({
      handlers: {
        promo: (_req, res) =>
          sendJson(res, {
            promotions: [
              promotion('p-1', 'b-1'),
              { ...promotion('p-bad', null), imageUrl: 42 },
              { id: 'p-no-title' },
              'not even an object',
              { ...promotion('p-3', null), extraField: 'ignored' },
            ],
          }),
      },
    });
    const { body } = await bed.query('{ homepage { promo { id title } } }');

    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.promo).toEqual([
      { id: 'p-1', title: 'Banner p-1' },
      { id: 'p-3', title: 'Banner p-3' },
    ]);
  });

  it('drops malformed recommendation items and books, without failing the page', async () => {
    const bed = await startBed({
      handlers: {
        recommendations: (_req, res) =>
          sendJson(res, {
            items: [
              { bookId: 'b-1', score: 0.5, reason: null },
              { bookId: 'b-2', score: 'high' },
              { bookId: 'b-3', score: 0.4 },
            ],
          }),
        catalog: (_req, res) =>
          sendJson(res, {
            books: [
              {
                id: 'b-1',
                title: 'Fine',
                authors: ['A'],
                price: { amount: 100, currency: 'EUR' },
                coverUrl: null,
              },
              {
                id: 'b-3',
                title: 'Bad price',
                authors: ['B'],
                price: { amount: 1.5, currency: 'euro' },
              },
            ],
          }),
      },
    });
    const { body } = await bed.query(
      '{ homepage { recommendations { score book { id title } } } }',
    );

    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.recommendations).toEqual([
      { score: 0.5, book: { id: 'b-1', title: 'Fine' } },
      { score: 0.4, book: null },
    ]);
  });

  it("treats recommendations for another user than the token's as a bad response", async () => {
    const bed = await startBed({
      handlers: {
        recommendations: (_req, res) => sendJson(res, { userId: 'someone-else', items: POPULAR }),
      },
      fallbacks: { recommendations: 'none' },
    });
    const token = await bed.tokenFor('u-1');
    const { body } = await bed.query('{ homepage { recommendations { score } } }', {
      authorization: `Bearer ${token}`,
    });

    expect(body.data?.homepage.recommendations).toBeNull();
    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'UPSTREAM_BAD_RESPONSE',
      service: 'recommendations',
    });
  });
});
