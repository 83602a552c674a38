import { SHARED_POLICY } from '../policy.js';
import type { UpstreamModule } from '../upstream-module.js';
import { createRecommendationsService, type RecommendationsService } from './client.js';
import { recommendationsDemoRoute } from './demo-route.js';

/** Books picked for the signed-in user, or popular picks (see docs/upstreams.md). */
export const recommendations = {
  // The most time of the three: picks are computed per user.
  policy: { ...SHARED_POLICY, timeoutMs: 1000 },
  createClient: createRecommendationsService,
  demoRoute: recommendationsDemoRoute,
} satisfies UpstreamModule<RecommendationsService>;
