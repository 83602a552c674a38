import { upstreamFailure } from '../../errors/upstream-error.js';
import { pathSegment } from '../../outbound/path-segment.js';
import type { CallOptions, UpstreamClient } from '../../outbound/upstream-client.js';
import type { Logger } from '../../logger.js';
import { parseListPayload } from '../parse-payload.js';
import {
  PopularRecommendationsEnvelope,
  RecommendationItem,
  UserRecommendationsEnvelope,
} from './schema.js';

/** Popular picks, and how long they stay fresh by the service's `Cache-Control` (if it says). */
export type PopularPicks = { items: RecommendationItem[]; maxAgeMs: number | undefined };

export type RecommendationsService = {
  /** Picks for one user; `userId` comes from a verified token, never from the query. */
  forUser(userId: string, limit: number, call: CallOptions): Promise<RecommendationItem[]>;
  /** Picks for anonymous visitors, with their freshness (they are the same for everyone). */
  popular(limit: number, call: CallOptions): Promise<PopularPicks>;
};

export function createRecommendationsService(
  http: UpstreamClient,
  { logger }: { logger: Logger },
): RecommendationsService {
  return {
    async forUser(userId, limit, call) {
      const { data } = await http.getJson(`users/${pathSegment(userId)}/recommendations`, {
        ...call,
        searchParams: { limit },
      });
      const parsed = parseListPayload({
        service: 'recommendations',
        payload: data,
        envelope: UserRecommendationsEnvelope,
        item: RecommendationItem,
        logger,
        record: call.record,
      });
      // Defence in depth: an answer for anyone else breaks the contract, so one
      // user's picks are never shown to another. Checked after parsing rather than
      // with a per-user `.refine`: zod compiles a new parser for every schema built.
      if (parsed.userId !== userId) {
        throw upstreamFailure(
          logger,
          'recommendations',
          'UPSTREAM_BAD_RESPONSE',
          'payload does not match its contract: userId: answered for another user than the one asked for',
        );
      }
      return parsed.items.slice(0, limit);
    },

    async popular(limit, call) {
      const { data, maxAgeMs } = await http.getJson('recommendations/popular', {
        ...call,
        searchParams: { limit },
      });
      const parsed = parseListPayload({
        service: 'recommendations',
        payload: data,
        envelope: PopularRecommendationsEnvelope,
        item: RecommendationItem,
        logger,
        record: call.record,
      });
      return { items: parsed.items.slice(0, limit), maxAgeMs };
    },
  };
}
