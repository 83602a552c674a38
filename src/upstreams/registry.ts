import { catalog } from './catalog/index.js';
import { promo } from './promo/index.js';
import { recommendations } from './recommendations/index.js';
import type { UpstreamModule } from './upstream-module.js';

// The one list of upstream services. Configuration (`<SERVICE>_URL`, …), the
// wiring in app.ts, the demo services, the test helpers and the benchmark are
// all driven from it. Adding a service: a folder `src/upstreams/<service>/`
// exporting its `UpstreamModule`, and its name here and in `MODULES`; leaving
// out either is a compile error.

/** The upstream services, in the order configuration and logs list them. */
export const SERVICES = ['promo', 'recommendations', 'catalog'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** One value per service. */
export type PerService<T> = { [S in ServiceName]: T };

const MODULES = { promo, recommendations, catalog } satisfies PerService<UpstreamModule<unknown>>;

/** Each service's typed client, as its module builds it. */
export type ServiceClients = {
  [S in ServiceName]: ReturnType<(typeof MODULES)[S]['createClient']>;
};

/** Each service's module, typed so that `UPSTREAMS[service]` keeps its own client type. */
export const UPSTREAMS: { [S in ServiceName]: UpstreamModule<ServiceClients[S]> } = MODULES;

/** Builds one value per service, each of its service's own type. */
export function perService<T extends PerService<unknown>>(
  make: <S extends ServiceName>(service: S) => T[S],
): T {
  // The one cast: Object.fromEntries cannot see that SERVICES lists every key.
  return Object.fromEntries(SERVICES.map((service) => [service, make(service)])) as T;
}

/** As `perService`, for values that take a while to make (servers to start). */
export async function perServiceAsync<T>(
  make: (service: ServiceName) => Promise<T>,
): Promise<PerService<T>> {
  const made = await Promise.all(SERVICES.map(async (service) => [service, await make(service)]));
  // As in perService: SERVICES lists every key.
  return Object.fromEntries(made) as PerService<T>;
}
