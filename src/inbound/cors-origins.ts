/** What an allowed origin is granted. */
export type CorsGrant = { origin: string; credentials: boolean };

/**
 * Decides which browser origins may call the gateway, from `CORS_ORIGINS`
 * entries: an exact origin (`https://shop.example.com`), a subdomain wildcard
 * (`https://*.example.com`: any depth of subdomain, not the apex, same scheme
 * and port), or `*` (any origin, without credentials: a page anywhere may read
 * answers, never with the visitor's cookies). Exact and wildcard entries allow
 * credentials. Returns `null` for an origin that is not allowed.
 */
export function createOriginPolicy(
  entries: readonly string[],
): (origin: string) => CorsGrant | null {
  const exact = new Set<string>();
  const wildcards: Array<{ scheme: string; suffix: string }> = [];
  let anyOrigin = false;
  for (const entry of entries) {
    if (entry === '*') anyOrigin = true;
    else if (entry.includes('://*.')) {
      const [scheme = '', rest = ''] = entry.toLowerCase().split('://*');
      wildcards.push({ scheme: `${scheme}://`, suffix: rest });
    } else exact.add(entry.toLowerCase());
  }
  return (origin) => {
    const lower = origin.toLowerCase();
    if (exact.has(lower)) return { origin, credentials: true };
    for (const { scheme, suffix } of wildcards) {
      if (!lower.startsWith(scheme) || !lower.endsWith(suffix)) continue;
      const label = lower.slice(scheme.length, lower.length - suffix.length);
      if (/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(label)) return { origin, credentials: true };
    }
    return anyOrigin ? { origin, credentials: false } : null;
  };
}
