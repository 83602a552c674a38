import { createHash } from 'node:crypto';

// The HTTP caching vocabulary of shared answers (RFC 9110, RFC 9111, RFC 5861),
// as pure functions.

/** A strong validator for `body`: its SHA-256, shortened. */
export function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/**
 * Does `If-None-Match` name `etag`? Weak comparison, as RFC 9110 asks for this
 * header: `W/"x"` matches `"x"`; `*` matches anything.
 */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const wanted = etag.replace(/^W\//, '');
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === wanted);
}

/** `Cache-Control`, `Age` of a shared answer stored at `storedAt`, fresh until `freshUntil`. */
export function sharedCacheHeaders({
  storedAt,
  freshUntil,
  staleWhileRevalidateMs,
  now,
}: {
  storedAt: number;
  freshUntil: number;
  staleWhileRevalidateMs: number;
  now: number;
}): { 'cache-control': string; age: string } {
  // RFC 9111 counts a response's remaining freshness as max-age − Age, so
  // max-age is its whole lifetime and Age what has passed; both rounded so that
  // the difference never exceeds the true remaining time.
  const age = Math.max(0, Math.floor((now - storedAt) / 1000));
  const remaining = Math.max(0, Math.floor((freshUntil - now) / 1000));
  const swr = Math.floor(staleWhileRevalidateMs / 1000);
  return {
    'cache-control': `public, max-age=${age + remaining}, stale-while-revalidate=${swr}`,
    age: String(age),
  };
}
