import type { YogaInitialContext } from 'graphql-yoga';
import type { VerifyViewer, Viewer } from './auth.js';
import type { SwrCache } from './cache/swr-cache.js';
import type { FallbackConfig } from './config.js';
import { requestError } from './errors/vocabulary.js';
import type { BookCache } from './cache/book-cache.js';
import { createBookLoader, type BookLoader } from './loaders/book-loader.js';
import { ListGate } from './loaders/list-gate.js';
import type { RequestRecord, RequestRecords } from './observability/request-record.js';
import type { ViewerLimiter } from './rate-limit/viewer-limiter.js';
import type { Promotion } from './upstreams/promo/schema.js';
import type { ServiceClients } from './upstreams/registry.js';

/** Caches shared by all requests, built once per process. */
export type Caches = {
  /** Promotions are the same for everyone: one shared value, refreshed in the background. */
  promo: SwrCache<Promotion[]>;
  /** Book details, or `null` when disabled. Recommendations are personal: never cached. */
  books: BookCache | null;
};

/** What every resolver receives. */
export type GatewayContext = {
  viewer: Viewer;
  /** Each upstream service's client, built once per process (registry.ts). */
  services: ServiceClients;
  caches: Caches;
  fallbacks: FallbackConfig;
  loaders: { book: BookLoader };
  /** Homepage lists whose books the book batch waits for (one catalog call per page). */
  lists: ListGate;
  /** The request's deadline, cancellation, trace and everything it did (request-record.ts). */
  record: RequestRecord;
  /** Freshness of popular picks whose service sent no Cache-Control max-age. */
  popularPicksTtlMs: number;
};

/** Options of `createContextFactory`: the long-lived parts every request shares. */
export type ContextFactoryOptions = {
  services: ServiceClients;
  caches: Caches;
  fallbacks: FallbackConfig;
  verifyViewer: VerifyViewer;
  records: RequestRecords;
  /** The catalog's own timeout: a book batch is never held past deadline − this. */
  catalogTimeoutMs: number;
  /** Pages per minute per signed-in viewer. Default: no limit. */
  rateLimiter?: ViewerLimiter | null;
  /**
   * Freshness of popular picks whose service sent no Cache-Control max-age.
   * Default 0: unknown freshness, so answers showing them are not reused.
   */
  popularPicksTtlMs?: number;
};

/** The one place where layers are wired together, once per request. */
export function createContextFactory({
  services,
  caches,
  fallbacks,
  verifyViewer,
  records,
  catalogTimeoutMs,
  rateLimiter = null,
  popularPicksTtlMs = 0,
}: ContextFactoryOptions) {
  return async ({ request }: Pick<YogaInitialContext, 'request'>): Promise<GatewayContext> => {
    const record = records.of(request);
    const viewer = await verifyViewer(request.headers.get('authorization'));
    // Signed-in viewers are counted by who they are, now that it is proven, and
    // before anything executes (anonymous ones were counted by address in front).
    if (viewer.kind === 'user' && rateLimiter) {
      const decision = await rateLimiter.check(viewer);
      if (!decision.allowed) {
        throw requestError('RATE_LIMITED', {
          headers: { 'Retry-After': String(decision.retryAfterSeconds) },
        });
      }
    }
    const lists = new ListGate({ releaseAt: record.deadlineAt - catalogTimeoutMs });
    return {
      viewer,
      services,
      caches,
      fallbacks,
      loaders: {
        book: createBookLoader({
          catalog: services.catalog,
          call: { record },
          cache: caches.books,
          gate: lists,
        }),
      },
      lists,
      record,
      popularPicksTtlMs,
    };
  };
}
