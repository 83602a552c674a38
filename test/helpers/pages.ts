import { expect } from 'vitest';
import { book, PROMOTIONS } from './fixtures.js';
import type { GraphQLResult } from './gateway.js';

/** Every homepage field present (the healthy fixtures' promo, books and picks), no error anywhere. */
export function expectCompletePage({ status, body }: GraphQLResult): void {
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  expect(body.data?.homepage.promo.map((banner: { id: string }) => banner.id)).toEqual(
    PROMOTIONS.map((promotion) => promotion.id),
  );
  expect(body.data?.homepage.promo[0].book).toEqual(book('b-1'));
  expect(body.data?.homepage.recommendations).toHaveLength(2);
  for (const pick of body.data?.homepage.recommendations ?? []) expect(pick.book).not.toBeNull();
}
