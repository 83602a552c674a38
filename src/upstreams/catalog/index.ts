import { SHARED_POLICY } from '../policy.js';
import type { UpstreamModule } from '../upstream-module.js';
import { createCatalogService, type CatalogService } from './client.js';
import { catalogDemoRoute } from './demo-route.js';

/** Book details, fetched in batches by id (see docs/upstreams.md). */
export const catalog = {
  // The batch runs after the lists arrive, so it must be short.
  policy: { ...SHARED_POLICY, timeoutMs: 800 },
  createClient: createCatalogService,
  demoRoute: catalogDemoRoute,
} satisfies UpstreamModule<CatalogService>;
