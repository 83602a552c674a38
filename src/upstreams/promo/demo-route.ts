import { activePromotions } from '../../demo/data.js';
import { notFound, type DemoReply } from '../../demo/reply.js';

/** The demo promo service: `GET /promotions/active`. */
export function promoDemoRoute(url: URL): DemoReply {
  return url.pathname === '/promotions/active'
    ? { status: 200, body: { promotions: activePromotions() } }
    : notFound(url);
}
