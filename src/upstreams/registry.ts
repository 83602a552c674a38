import { catalog } from './catalog/index.js';
import { promo } from './promo/index.js';
import { recommendations } from './recommendations/index.js';
import type { PerService, ServiceName } from './services.js';
import type { UpstreamModule } from './upstream-module.js';

// The modules of the upstream services named in services.ts. Configuration
// (`<SERVICE>_URL`, …), the wiring in app.ts, the demo services, the test helpers
// and the benchmark are all driven from them. Adding a service: a folder
// `src/upstreams/<service>/` exporting its `UpstreamModule`, its name in
// services.ts and its module here; leaving out either is a compile error.

const MODULES = { promo, recommendations, catalog } satisfies PerService<UpstreamModule<unknown>>;

/** Each service's typed client, as its module builds it. */
export type ServiceClients = {
  [S in ServiceName]: ReturnType<(typeof MODULES)[S]['createClient']>;
};

/** Each service's module, typed so that `UPSTREAMS[service]` keeps its own client type. */
export const UPSTREAMS: { [S in ServiceName]: UpstreamModule<ServiceClients[S]> } = MODULES;
