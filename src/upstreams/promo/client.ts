import type { CallOptions, UpstreamClient } from '../../http/upstream-client.js';
import type { Logger } from '../../logger.js';
import type { UpstreamObserver } from '../../observability/observer.js';
import { parseListPayload } from '../parse-payload.js';
import { ActivePromotionsEnvelope, Promotion } from './schema.js';

/** Active promotions, and how long a shared cache may reuse them (Cache-Control). */
export type ActivePromotions = { promotions: Promotion[]; maxAgeMs: number | undefined };

export type PromoService = {
  /** The promotions running now, validated; invalid ones are dropped. */
  activePromotions(call?: CallOptions): Promise<ActivePromotions>;
};

export function createPromoService(
  http: UpstreamClient,
  logger: Logger,
  observer?: UpstreamObserver,
): PromoService {
  const envelope = ActivePromotionsEnvelope.transform(({ promotions }) => ({ items: promotions }));
  return {
    async activePromotions(call) {
      const { data, maxAgeMs } = await http.getJson('promotions/active', call);
      const { items } = parseListPayload(
        'promo',
        data,
        { envelope, item: Promotion },
        logger,
        observer,
      );
      return { promotions: items, maxAgeMs };
    },
  };
}
