import { z } from 'zod';

// Contract of the catalog service, `GET /books?ids=b-1,b-2` (at most 100 ids).
// Unknown ids are simply absent from `books` (see docs/upstreams.md).

/** Most ids the catalog accepts in one request. */
export const MAX_IDS_PER_REQUEST = 100;

export const Money = z.object({
  amount: z.number().int(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO-4217 code'),
});
export type Money = z.infer<typeof Money>;

export const Book = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  authors: z.array(z.string().min(1)),
  price: Money,
  coverUrl: z.url().nullish(),
});
export type Book = z.infer<typeof Book>;

export const BooksEnvelope = z.object({ books: z.array(z.unknown()) });
