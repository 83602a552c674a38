import type { Handler } from './upstream.js';
import { sendJson } from './upstream.js';

export type WireBook = {
  id: string;
  title: string;
  authors: string[];
  price: { amount: number; currency: string };
  coverUrl: string | null;
};

export function book(id: string): WireBook {
  return {
    id,
    title: `Title of ${id}`,
    authors: [`Author of ${id}`],
    price: { amount: 1299, currency: 'EUR' },
    coverUrl: `https://img.test/${id}.jpg`,
  };
}

export function promotion(id: string, bookId: string | null) {
  return {
    id,
    title: `Banner ${id}`,
    imageUrl: `https://img.test/${id}.png`,
    link: `/campaigns/${id}`,
    bookId,
    startsAt: '2026-11-01T00:00:00Z',
    endsAt: '2026-12-01T00:00:00Z',
  };
}

export const PROMOTIONS = [promotion('p-1', 'b-1'), promotion('p-2', null)];
export const POPULAR = [
  { bookId: 'b-2', score: 0.9, reason: 'Bestseller' },
  { bookId: 'b-1', score: 0.8, reason: null },
];
export function picksFor(userId: string) {
  return [{ bookId: `b-${userId}`, score: 0.99, reason: `Picked for ${userId}` }];
}

export const promoHandler =
  (promotions: unknown[] = PROMOTIONS): Handler =>
  (_req, res) =>
    sendJson(res, { promotions });

/** Popular picks for anonymous visitors, `picksFor(userId)` for users. */
export const recommendationsHandler = (): Handler => (_req, res, url) => {
  const limit = Number(url.searchParams.get('limit'));
  if (url.pathname === '/recommendations/popular') {
    return sendJson(res, { items: POPULAR.slice(0, limit) });
  }
  const user = /^\/users\/([^/]+)\/recommendations$/.exec(url.pathname);
  if (!user?.[1]) return sendJson(res, { error: 'not found' }, 404);
  const userId = decodeURIComponent(user[1]);
  sendJson(res, { userId, items: picksFor(userId).slice(0, limit) });
};

/** Knows every id except those starting with `unknown`. */
export const catalogHandler = (): Handler => (_req, res, url) => {
  const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
  sendJson(res, { books: ids.filter((id) => !id.startsWith('unknown')).map(book) });
};
