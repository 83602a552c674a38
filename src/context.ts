import type { YogaInitialContext } from 'graphql-yoga';
import type { VerifyViewer, Viewer } from './auth.js';
import type { CallOptions } from './http/upstream-client.js';
import { createBookLoader, type BookLoader } from './loaders/book-loader.js';
import type { CatalogService } from './upstreams/catalog/client.js';
import type { PromoService } from './upstreams/promo/client.js';
import type { RecommendationsService } from './upstreams/recommendations/client.js';

/** Long-lived services, built once per process and shared by all requests. */
export type Upstreams = {
  promo: PromoService;
  recommendations: RecommendationsService;
  catalog: CatalogService;
};

/** What every resolver receives. */
export type GatewayContext = {
  viewer: Viewer;
  upstreams: Upstreams;
  loaders: { book: BookLoader };
  /** The request's deadline and cancellation, handed to every upstream call. */
  call: Required<CallOptions>;
};

/** The one place where layers are wired together, once per request. */
export function createContextFactory(deps: {
  upstreams: Upstreams;
  verifyViewer: VerifyViewer;
  /** Time from a request's arrival to its response, whatever the upstreams do. */
  requestDeadlineMs: number;
}) {
  return async ({ request }: YogaInitialContext): Promise<GatewayContext> => {
    const call = { deadlineAt: Date.now() + deps.requestDeadlineMs, signal: request.signal };
    const viewer = await deps.verifyViewer(request.headers.get('authorization'));
    return {
      viewer,
      upstreams: deps.upstreams,
      loaders: { book: createBookLoader(deps.upstreams.catalog, call) },
      call,
    };
  };
}
