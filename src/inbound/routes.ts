import type { IncomingMessage } from 'node:http';

// Which of the gateway's few routes a request is for, decided once, before any
// front step or yoga sees it. yoga matches its endpoints by suffix of the whole
// URL (`/x/graphql`, `/health?x=/graphql` ran GraphQL), while the front steps
// matched exact paths: a request could be GraphQL to yoga and "not a page" to
// the limits and the cache. One table, read by everyone, closes that gap.

/** What a route does with a request. */
export type RouteEntry = {
  /** The route's name, as the front steps and the request log know it. */
  name: string;
  /**
   * Whether the front steps (admission, limits, page cache) run for it. Probes
   * and metrics skip them: an overloaded replica is still alive and ready.
   */
  frontSteps: boolean;
  /** Whether its query string is passed on; without, the route sees its bare path. */
  readsQuery: boolean;
};

/**
 * Every path the gateway serves, exactly. Serving another path (an admin route)
 * takes one entry here; anything absent is a 404 before any work.
 */
export const ROUTES = {
  '/graphql': { name: 'graphql', frontSteps: true, readsQuery: true },
  // yoga's own health check matches `/health` as the URL's suffix, query included.
  '/health': { name: 'health', frontSteps: false, readsQuery: false },
  '/ready': { name: 'ready', frontSteps: false, readsQuery: false },
  '/metrics': { name: 'metrics', frontSteps: false, readsQuery: false },
} as const satisfies Record<string, RouteEntry>;

/**
 * `POST /admin/purge` (admin-purge.ts), served only when `ADMIN_TOKEN` is set.
 * Its front step comes first, so it is never shed, limited or cached.
 */
export const ADMIN_ROUTES = {
  '/admin/purge': { name: 'admin-purge', frontSteps: true, readsQuery: true },
} as const satisfies Record<string, RouteEntry>;

export type RouteTable = Readonly<Record<string, RouteEntry>>;

/** A request's route, and its target rewritten to the one spelling yoga and the steps read. */
export type Routed = RouteEntry & {
  /** The path, exactly a key of the table. */
  path: string;
  /** `path`, plus the query string re-serialised when the route reads it (see `routeOf`). */
  target: string;
};

/** Any base: only the path and query of a request target are read. */
const BASE = 'http://gateway.invalid';

/**
 * The route of a request target (`req.url`): origin-form (`/graphql?…`) or
 * absolute-form (`http://host/graphql?…`, which HTTP/1.1 servers must accept).
 * The path must be exactly a table key, as sent: `/graphql/`, `//graphql`,
 * `/./graphql`, `/x/graphql` and `/%67raphql` are other paths (404), not
 * spellings of `/graphql`. The query string never changes the route.
 *
 * The query is re-serialised as `application/x-www-form-urlencoded`, which
 * yoga reads the same way (URLSearchParams) but which encodes every `/` and
 * `?`: no query can then end in `/health` or `/ready`, paths yoga's own probes
 * match by suffix of the whole URL.
 */
export function routeOf(url: string | undefined, table: RouteTable = ROUTES): Routed | undefined {
  if (url === undefined) return undefined;
  const origin = /^https?:\/\/[^/?#]*/i.exec(url);
  const target = origin ? url.slice(origin[0].length) || '/' : url;
  if (!target.startsWith('/')) return undefined; // `*`, authority-form
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const entry = Object.hasOwn(table, path) ? table[path] : undefined;
  if (entry === undefined) return undefined;
  // The common request, a table path exactly and no query: already what URL
  // parsing would give (the table's paths are normalised), so nothing is parsed.
  if (target === path) return exactRoute(entry, path);
  let parsed: URL;
  try {
    parsed = new URL(target, BASE);
  } catch {
    return undefined;
  }
  // WHATWG's own normalisation must agree (no dot segments, backslashes, …).
  if (parsed.pathname !== path) return undefined;
  const query = entry.readsQuery ? parsed.searchParams.toString() : '';
  return { ...entry, path, target: query === '' ? path : `${path}?${query}` };
}

/** One frozen `Routed` per table entry and path, for requests with no query. */
const exact = new WeakMap<RouteEntry, Map<string, Routed>>();
function exactRoute(entry: RouteEntry, path: string): Routed {
  let byPath = exact.get(entry);
  if (!byPath) exact.set(entry, (byPath = new Map()));
  let routed = byPath.get(path);
  if (!routed) byPath.set(path, (routed = Object.freeze({ ...entry, path, target: path })));
  return routed;
}

const routes = new WeakMap<IncomingMessage, Routed>();

/** Remembers a request's route for the steps after the server (server.ts). */
export function setRoute(req: IncomingMessage, routed: Routed): void {
  routes.set(req, routed);
}

/** The route the server gave this request; `undefined` for a request it did not route. */
export function routeName(req: IncomingMessage): string | undefined {
  return routes.get(req)?.name;
}
