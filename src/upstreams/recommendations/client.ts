import type { CallOptions, UpstreamClient } from '../../http/upstream-client.js';
import type { Logger } from '../../logger.js';
import type { UpstreamObserver } from '../../observability/observer.js';
import { parseListPayload } from '../parse-payload.js';
import {
  PopularRecommendationsEnvelope,
  RecommendationItem,
  UserRecommendationsEnvelope,
} from './schema.js';

export type RecommendationsService = {
  /** Picks for one user; `userId` comes from a verified token, never from the query. */
  forUser(userId: string, limit: number, call?: CallOptions): Promise<RecommendationItem[]>;
  /** Picks for anonymous visitors. */
  popular(limit: number, call?: CallOptions): Promise<RecommendationItem[]>;
};

export function createRecommendationsService(
  http: UpstreamClient,
  logger: Logger,
  observer?: UpstreamObserver,
): RecommendationsService {
  return {
    async forUser(userId, limit, call) {
      const { data } = await http.getJson(`users/${encodeURIComponent(userId)}/recommendations`, {
        ...call,
        searchParams: { limit },
      });
      // Defence in depth: an answer for anyone else breaks the contract, so one
      // user's picks are never shown to another.
      const envelope = UserRecommendationsEnvelope.refine((e) => e.userId === userId, {
        path: ['userId'],
        message: 'answered for another user than the one asked for',
      });
      const parsed = parseListPayload(
        'recommendations',
        data,
        { envelope, item: RecommendationItem },
        logger,
        observer,
      );
      return parsed.items.slice(0, limit);
    },

    async popular(limit, call) {
      const { data } = await http.getJson('recommendations/popular', {
        ...call,
        searchParams: { limit },
      });
      const parsed = parseListPayload(
        'recommendations',
        data,
        { envelope: PopularRecommendationsEnvelope, item: RecommendationItem },
        logger,
        observer,
      );
      return parsed.items.slice(0, limit);
    },
  };
}
