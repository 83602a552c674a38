import { UpstreamError } from '../../errors.js';
import type { CallOptions, UpstreamClient } from '../../http/upstream-client.js';
import type { Logger } from '../../logger.js';
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
): RecommendationsService {
  return {
    async forUser(userId, limit, call) {
      const payload = await http.getJson(`users/${encodeURIComponent(userId)}/recommendations`, {
        ...call,
        searchParams: { limit },
      });
      const result = parseListPayload(
        'recommendations',
        payload,
        { envelope: UserRecommendationsEnvelope, item: RecommendationItem },
        logger,
      );
      // Defence in depth: never show one user's picks to another.
      if (result.userId !== userId) {
        const message = `answered for another user than the one asked for`;
        logger.warn(`[recommendations] UPSTREAM_BAD_RESPONSE ${message}`);
        throw new UpstreamError('recommendations', 'UPSTREAM_BAD_RESPONSE', message);
      }
      return result.items.slice(0, limit);
    },

    async popular(limit, call) {
      const payload = await http.getJson('recommendations/popular', {
        ...call,
        searchParams: { limit },
      });
      const envelope = PopularRecommendationsEnvelope;
      const result = parseListPayload(
        'recommendations',
        payload,
        { envelope, item: RecommendationItem },
        logger,
      );
      return result.items.slice(0, limit);
    },
  };
}
