import { describe, expect, it } from 'vitest';
import { book, POPULAR, promotion } from './helpers/fixtures.js';
import { useTestBeds, type TestBed } from './helpers/gateway.js';
import { sendJson } from './helpers/upstream.js';

const startBed = useTestBeds();

const idsOf = (bed: TestBed) =>
  bed.upstreams.catalog.requests.map((r) => r.url.searchParams.get('ids')?.split(',') ?? []);

describe('book batching', () => {
  it('loads all books of a resolution wave in one catalog call, de-duplicated', async () => {
    const bed = await startBed({
      handlers: {
        promo: (_req, res) =>
          sendJson(res, {
            promotions: [
              promotion('p-1', 'b-1'),
              promotion('p-2', 'b-2'),
              promotion('p-3', 'b-1'),
              promotion('p-4', null),
            ],
          }),
      },
    });
    const { body } = await bed.query('{ homepage { promo { id book { id title } } } }');

    expect(body.errors).toBeUndefined();
    expect(
      body.data?.homepage.promo.map((p: { book: { id: string } | null }) => p.book?.id ?? null),
    ).toEqual(['b-1', 'b-2', 'b-1', null]);
    expect(idsOf(bed)).toEqual([['b-1', 'b-2']]);
  });

  it('asks the catalog for each book once per request, even across resolution waves', async () => {
    const bed = await startBed();
    const { body } = await bed.query(
      '{ homepage { promo { book { id } } recommendations { book { id } } } }',
    );

    expect(body.errors).toBeUndefined();
    const ids = idsOf(bed).flat();
    // Every book is asked for once, however many waves it took.
    expect(ids.sort()).toEqual(['b-1', 'b-2']);
  });

  it('makes one catalog call per page: promo books wait for the later recommendations and share their batch', async () => {
    const bed = await startBed({
      handlers: {
        recommendations: (_req, res) => {
          setTimeout(() => sendJson(res, { items: POPULAR }), 50);
        },
      },
    });
    const { body } = await bed.query(
      '{ homepage { promo { book { id } } recommendations { book { id } } } }',
    );

    expect(body.errors).toBeUndefined();
    expect(idsOf(bed)).toHaveLength(1);
    expect(idsOf(bed)[0]?.sort()).toEqual(['b-1', 'b-2']);
  });

  it("does not let a list that is slow to fail starve the other list's books", async () => {
    // Promo hangs until the request deadline; the batch is held only until the
    // deadline less the catalog's timeout, so the catalog still gets its budget.
    const bed = await startBed({
      timeoutsMs: { promo: 10_000, catalog: 200 },
      requestDeadlineMs: 1000,
      handlers: { promo: () => {} },
    });
    const { body } = await bed.query(
      '{ homepage { promo { book { id } } recommendations { book { id } } } }',
    );

    expect(body.data?.homepage.promo).toBeNull();
    expect(body.errors).toEqual([
      expect.objectContaining({ path: ['homepage', 'promo'], extensions: expect.anything() }),
    ]);
    expect(
      body.data?.homepage.recommendations.map((r: { book: { id: string } | null }) => r.book?.id),
    ).toEqual(POPULAR.map((r) => r.bookId));
  });

  it('splits more than 100 ids into catalog calls of at most 100', async () => {
    const promotions = Array.from({ length: 130 }, (_, i) => promotion(`p-${i}`, `b-${i}`));
    const bed = await startBed({
      handlers: { promo: (_req, res) => sendJson(res, { promotions }) },
    });
    const { body } = await bed.query('{ homepage { promo { book { id } } } }');

    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.promo).toHaveLength(130);
    expect(idsOf(bed).map((ids) => ids.length)).toEqual([100, 30]);
    expect(new Set(idsOf(bed).flat()).size).toBe(130);
  });

  it('returns null without an error for a book the catalog does not know', async () => {
    const bed = await startBed({
      handlers: {
        promo: (_req, res) =>
          sendJson(res, { promotions: [promotion('p-1', 'unknown-1'), promotion('p-2', 'b-7')] }),
      },
    });
    const { body } = await bed.query('{ homepage { promo { id book { id } } } }');

    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.promo).toEqual([
      { id: 'p-1', book: null },
      { id: 'p-2', book: { id: 'b-7' } },
    ]);
    expect(idsOf(bed)).toEqual([['unknown-1', 'b-7']]);
  });

  it('uses a new loader per request: without the shared cache, a second request asks the catalog again', async () => {
    const bed = await startBed({ catalogCache: { ttlMs: 0 } });
    await bed.query('{ homepage { promo { book { id } } } }');
    await bed.query('{ homepage { promo { book { id } } } }');
    expect(idsOf(bed)).toEqual([['b-1'], ['b-1']]);
  });

  it('asks the catalog only for books the shared cache lacks', async () => {
    const bed = await startBed({
      handlers: {
        promo: (_req, res) =>
          sendJson(res, { promotions: [promotion('p-1', 'b-1'), promotion('p-2', 'b-2')] }),
      },
    });
    await bed.query('{ homepage { promo { book { id } } } }');
    const { body } = await bed.query(
      '{ homepage { promo { book { id title } } recommendations { book { id } } } }',
    );

    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.promo).toEqual([
      { book: { id: 'b-1', title: 'Title of b-1' } },
      { book: { id: 'b-2', title: 'Title of b-2' } },
    ]);
    // Popular picks are b-2 and b-1: both cached by the first request.
    expect(idsOf(bed)).toEqual([['b-1', 'b-2']]);
  });

  it('never caches a failed catalog call', async () => {
    let calls = 0;
    const bed = await startBed({
      policies: { catalog: { retries: 0 } },
      handlers: {
        catalog: (_req, res, url) => {
          calls++;
          if (calls === 1) return sendJson(res, { error: 'down' }, 500);
          sendJson(res, { books: (url.searchParams.get('ids') ?? '').split(',').map(book) });
        },
      },
    });
    const first = await bed.query('{ homepage { promo { book { id } } } }');
    const second = await bed.query('{ homepage { promo { book { id } } } }');

    expect(first.body.data?.homepage.promo[0].book).toBeNull();
    expect(second.body.errors).toBeUndefined();
    expect(second.body.data?.homepage.promo[0].book).toEqual({ id: 'b-1' });
  });
});
