import { z } from 'zod';

// Contract of the promo service, `GET /promotions/active` (see docs/upstreams.md).
// Plain z.object strips unknown keys: the service may add fields without breaking us.

export const Promotion = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  imageUrl: z.url(),
  link: z.string().min(1),
  bookId: z.string().min(1).nullable(),
  startsAt: z.iso.datetime({ offset: true }).nullable(),
  endsAt: z.iso.datetime({ offset: true }).nullable(),
});
export type Promotion = z.infer<typeof Promotion>;

export const ActivePromotionsEnvelope = z.object({ promotions: z.array(z.unknown()) });
