import { z } from 'zod';

// Contract of the recommendations service (see docs/upstreams.md):
//   GET /users/{userId}/recommendations?limit=N -> { userId, items: [...] }
//   GET /recommendations/popular?limit=N        -> { items: [...] }

export const RecommendationItem = z.object({
  bookId: z.string().min(1),
  score: z.number().finite(),
  reason: z.string().nullish(),
});
export type RecommendationItem = z.infer<typeof RecommendationItem>;

export const UserRecommendationsEnvelope = z.object({
  userId: z.string().min(1),
  items: z.array(z.unknown()),
});

export const PopularRecommendationsEnvelope = z.object({ items: z.array(z.unknown()) });
