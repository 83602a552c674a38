// The names of the upstream services: a leaf that imports nothing of the project,
// so that errors, the request record and the caches can speak of a service
// without pulling in its client (registry.ts holds the modules themselves).
// Adding a service: its name here, and its module in registry.ts's `MODULES`;
// leaving out either is a compile error.

/** The upstream services, in the order configuration and logs list them. */
export const SERVICES = ['promo', 'recommendations', 'catalog'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** One value per service. */
export type PerService<T> = { [S in ServiceName]: T };

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
