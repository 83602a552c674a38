import { SHARED_POLICY } from '../policy.js';
import type { UpstreamModule } from '../upstream-module.js';
import { createPromoService, type PromoService } from './client.js';
import { promoDemoRoute } from './demo-route.js';

/** Promotional banners, the same for everyone (see docs/upstreams.md). */
export const promo = {
  // Under the 1.5 s deadline, so a slow promo costs its field, not the page.
  policy: { ...SHARED_POLICY, timeoutMs: 800 },
  createClient: createPromoService,
  demoRoute: promoDemoRoute,
} satisfies UpstreamModule<PromoService>;
