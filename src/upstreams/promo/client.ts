import type { CallOptions, UpstreamClient } from '../../http/upstream-client.js';
import type { Logger } from '../../logger.js';
import { parseListPayload } from '../parse-payload.js';
import { ActivePromotionsEnvelope, Promotion } from './schema.js';

export type PromoService = {
  /** The promotions running now, validated; invalid ones are dropped. */
  activePromotions(call?: CallOptions): Promise<Promotion[]>;
};

export function createPromoService(http: UpstreamClient, logger: Logger): PromoService {
  const envelope = ActivePromotionsEnvelope.transform(({ promotions }) => ({ items: promotions }));
  return {
    async activePromotions(call) {
      const payload = await http.getJson('promotions/active', call);
      return parseListPayload('promo', payload, { envelope, item: Promotion }, logger).items;
    },
  };
}
