import type { YogaInitialContext } from 'graphql-yoga';
import type { VerifyViewer, Viewer } from './auth.js';
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
  /** Aborted when the client goes away: upstream calls stop with it. */
  signal: AbortSignal;
};

/** The one place where layers are wired together, once per request. */
export function createContextFactory(deps: { upstreams: Upstreams; verifyViewer: VerifyViewer }) {
  return async ({ request }: YogaInitialContext): Promise<GatewayContext> => {
    const viewer = await deps.verifyViewer(request.headers.get('authorization'));
    return {
      viewer,
      upstreams: deps.upstreams,
      loaders: { book: createBookLoader(deps.upstreams.catalog, request.signal) },
      signal: request.signal,
    };
  };
}
