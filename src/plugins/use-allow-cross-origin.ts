import type { Plugin } from 'graphql-yoga';
import { createOriginPolicy } from '../inbound/cors-origins.js';

/** Options of `useAllowCrossOrigin`. */
export type AllowCrossOriginOptions = {
  /** `CORS_ORIGINS` entries (cors-origins.ts); empty: no cross-origin access. */
  origins: readonly string[];
  /** How long browsers may reuse a preflight. Default 7200 s, Chromium's ceiling. */
  maxAgeSeconds?: number;
};

/** What a page on an allowed origin may read besides the body: the request id and timings. */
const EXPOSED = 'x-request-id, server-timing';

/**
 * CORS from an allow-list (yoga's own CORS reflects every origin, with
 * credentials). Preflights are answered here, before anything else runs; an
 * origin that is not allowed gets no CORS header at all, so the browser keeps
 * the answer from the page. Allowed origins may also read `x-request-id` and
 * `Server-Timing` (with `Timing-Allow-Origin`, the Resource Timing API shows them).
 */
export function useAllowCrossOrigin({
  origins,
  maxAgeSeconds = 7200,
}: AllowCrossOriginOptions): Plugin {
  const grantFor = createOriginPolicy(origins);
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method !== 'OPTIONS') return;
      const origin = request.headers.get('origin');
      const grant = origin === null ? null : grantFor(origin);
      // Safari waits for a body on a 204 without Content-Length.
      const headers = new fetchAPI.Headers({ 'content-length': '0', vary: 'Origin' });
      if (grant) {
        headers.set('access-control-allow-origin', grant.origin);
        if (grant.credentials) headers.set('access-control-allow-credentials', 'true');
        headers.set('access-control-allow-methods', 'GET, POST');
        const asked = request.headers.get('access-control-request-headers');
        if (asked) headers.set('access-control-allow-headers', asked);
        headers.set('access-control-max-age', String(maxAgeSeconds));
      }
      endResponse(new fetchAPI.Response(null, { status: 204, headers }));
    },
    onResponse({ request, response }) {
      if (request.method === 'OPTIONS') return;
      response.headers.append('vary', 'Origin');
      const origin = request.headers.get('origin');
      const grant = origin === null ? null : grantFor(origin);
      if (!grant) return;
      response.headers.set('access-control-allow-origin', grant.origin);
      if (grant.credentials) response.headers.set('access-control-allow-credentials', 'true');
      response.headers.set('access-control-expose-headers', EXPOSED);
      response.headers.set('timing-allow-origin', grant.origin);
    },
  };
}
