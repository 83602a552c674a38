import type { YogaInitialContext } from 'graphql-yoga';
import type { VerifyViewer, Viewer } from './auth.js';
import type { SwrCache } from './cache/swr-cache.js';
import type { FallbackConfig } from './config.js';
import type { CallOptions } from './http/upstream-client.js';
import { createBookLoader, type BookCache, type BookLoader } from './loaders/book-loader.js';
import { ListGate } from './loaders/list-gate.js';
import type { TimingEntry, UpstreamObserver } from './observability/observer.js';
import { requestIdOf } from './observability/request-id.js';
import { extractTraceContext, type TraceParent } from './observability/tracing.js';
import type { Tracer } from '@opentelemetry/api';
import type { ResponseNotes } from './plugins/use-response-notes.js';
import type { CatalogService } from './upstreams/catalog/client.js';
import type { RecommendationsService } from './upstreams/recommendations/client.js';
import type { Promotion } from './upstreams/promo/schema.js';

/** Long-lived services, built once per process and shared by all requests. */
export type Upstreams = {
  /** Promotions are the same for everyone: served from a shared cache. */
  promo: SwrCache<Promotion[]>;
  /** Personal: never cached across requests. */
  recommendations: RecommendationsService;
  catalog: CatalogService;
  /** Book details shared across requests, or `null` when disabled. */
  bookCache: BookCache | null;
};

/** What every resolver receives. */
export type GatewayContext = {
  viewer: Viewer;
  upstreams: Upstreams;
  fallbacks: FallbackConfig;
  loaders: { book: BookLoader };
  /** Homepage lists whose books the book batch waits for (one catalog call per page). */
  lists: ListGate;
  /** The request's deadline and cancellation, handed to every upstream call. */
  call: Required<CallOptions>;
  /** Stale values and fallbacks served, reported in the response's extensions. */
  notes: ResponseNotes;
  /** Upstream and cache time spent for this request, for its Server-Timing header. */
  timings: TimingEntry[];
  /** Process-wide metrics. */
  observer: UpstreamObserver;
  /**
   * Where this request's spans hang: the incoming `traceparent` at first, the
   * operation's span once execution starts (see use-tracing.ts).
   */
  trace: TraceParent;
};

/** The one place where layers are wired together, once per request. */
export function createContextFactory(deps: {
  upstreams: Upstreams;
  fallbacks: FallbackConfig;
  verifyViewer: VerifyViewer;
  /** Time from a request's arrival to its response, whatever the upstreams do. */
  requestDeadlineMs: number;
  /** The catalog's own timeout: a book batch is never held past deadline − this. */
  catalogTimeoutMs: number;
  observer: UpstreamObserver;
  tracer: Tracer;
}) {
  return async ({ request }: YogaInitialContext): Promise<GatewayContext> => {
    const timings: TimingEntry[] = [];
    const trace: TraceParent = {
      tracer: deps.tracer,
      context: extractTraceContext(request.headers),
    };
    const call: Required<CallOptions> = {
      deadlineAt: Date.now() + deps.requestDeadlineMs,
      signal: request.signal,
      requestId: requestIdOf(request),
      onCall: ({ service, durationMs, outcome }) =>
        timings.push({ name: service, durationMs, description: outcome }),
      trace,
    };
    const viewer = await deps.verifyViewer(request.headers.get('authorization'));
    const { upstreams } = deps;
    const lists = new ListGate({ releaseAt: call.deadlineAt - deps.catalogTimeoutMs });
    return {
      viewer,
      upstreams,
      fallbacks: deps.fallbacks,
      loaders: {
        book: createBookLoader(
          upstreams.catalog,
          call,
          upstreams.bookCache,
          deps.observer,
          timings,
          lists,
        ),
      },
      lists,
      call,
      notes: { stale: [], fallbacks: [] },
      timings,
      observer: deps.observer,
      trace,
    };
  };
}
