import { errorResponse } from '../errors/vocabulary.js';
import type { ViewerLimiter } from '../rate-limit/viewer-limiter.js';
import { createClientAddress } from './client-address.js';
import { writeResponse } from './node-exchange.js';
import { routeName } from './routes.js';
import type { FrontStep } from './server.js';

/** Options of `limitAnonymousPages`. */
export type LimitAnonymousPagesOptions = {
  limiter: ViewerLimiter;
  /** Proxies whose `X-Forwarded-For` is believed (TRUSTED_PROXIES). */
  trustedProxies: readonly string[];
};

/**
 * The rate limit for anonymous viewers, by client address, as a front step: a
 * refused request costs no body parsing, no execution and no upstream call, and
 * the limit applies before anything that could serve a page from a cache.
 * Requests with credentials pass through: they are counted by user id once the
 * token is verified (context.ts), so a signed-in user behind a shared address
 * (an office, a mobile carrier) is not limited with everyone else there.
 */
export function limitAnonymousPages({
  limiter,
  trustedProxies,
}: LimitAnonymousPagesOptions): FrontStep {
  const addressOf = createClientAddress(trustedProxies);
  return async (req, res) => {
    // Same test as the token check: a blank Authorization header is anonymous.
    if ((req.headers.authorization ?? '').trim() !== '') return false;
    if (req.method !== 'GET' && req.method !== 'POST') return false;
    // Only pages are limited: the route (routes.ts), never a match on the path's
    // text, which `/graphql/` or `/health?x=/graphql` once slipped past.
    if (routeName(req) !== 'graphql') return false;
    const decision = await limiter.check({ kind: 'anonymous', address: addressOf(req) });
    if (decision.allowed) return false;
    await writeResponse(
      res,
      errorResponse('RATE_LIMITED', {
        headers: { 'Retry-After': String(decision.retryAfterSeconds) },
      }),
    );
    return { code: 'RATE_LIMITED' };
  };
}
