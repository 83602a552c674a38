import type { CallOptions, UpstreamClient } from '../../outbound/upstream-client.js';
import type { Logger } from '../../logger.js';
import { parseListPayload } from '../parse-payload.js';
import { ActivePromotionsEnvelope, Promotion } from './schema.js';

/** Active promotions, and how long a shared cache may reuse them (Cache-Control). */
export type ActivePromotions = { promotions: Promotion[]; maxAgeMs: number | undefined };

export type PromoService = {
  /** The promotions running now, validated; invalid ones are dropped. */
  activePromotions(call: CallOptions): Promise<ActivePromotions>;
};

// Built once: zod compiles a parser per schema object.
const envelope = ActivePromotionsEnvelope.transform(({ promotions }) => ({ items: promotions }));

export function createPromoService(
  http: UpstreamClient,
  { logger }: { logger: Logger },
): PromoService {
  return {
    async activePromotions(call) {
      const { data, maxAgeMs } = await http.getJson('promotions/active', call);
      const { items } = parseListPayload({
        service: 'promo',
        payload: data,
        envelope,
        item: Promotion,
        logger,
        record: call.record,
      });
      return { promotions: items, maxAgeMs };
    },
  };
}
