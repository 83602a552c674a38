import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

// Client headers passed on to an upstream (`<SERVICE>_FORWARD_HEADERS`), e.g.
// `Accept-Language` so that promo can localize its banners. A forwarded header
// changes what the upstream answers, so wherever that answer is shared (the promo
// cache, the book cache, the page cache, and their Redis keys) its value is part
// of the key: `forwardVariant` below is that part. The values sent are the
// normalised ones the key was made from, so a cached answer was always produced
// from exactly the value it is filed under.

/**
 * Headers never forwarded, whatever the configuration says: hop-by-hop headers
 * (RFC 9110 §7.6.1) and framing, which describe one connection, not the client;
 * credentials, which would leak a visitor's identity into shared caches; and the
 * headers the gateway sets on every upstream call itself.
 */
export const NEVER_FORWARDED: ReadonlyMap<string, string> = new Map([
  ...[
    'connection',
    'keep-alive',
    'proxy-connection',
    'te',
    'trailer',
    'transfer-encoding',
    'upgrade',
    'host',
    'content-length',
  ].map((name) => [name, 'a hop-by-hop or framing header describes one connection'] as const),
  ...['authorization', 'proxy-authorization', 'cookie', 'set-cookie'].map(
    (name) => [name, 'credentials must never reach shared caches or other services'] as const,
  ),
  ...['accept', 'x-request-id', 'x-request-budget-ms', 'traceparent', 'tracestate'].map(
    (name) => [name, 'the gateway sets it on every upstream call itself'] as const,
  ),
]);

/** RFC 9110 `token`: the characters a header name may have. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** A forwarded value longer than this is cut: it is part of cache keys. */
export const MAX_FORWARDED_VALUE_LENGTH = 128;

/**
 * A comma-separated list of header names, lowercased and de-duplicated; throws
 * a message naming the first name refused and why (for config.ts).
 */
export function parseForwardHeaders(list: string): string[] {
  const names = [
    ...new Set(
      list
        .split(',')
        .map((name) => name.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  for (const name of names) {
    if (!HEADER_NAME.test(name)) throw new Error(`"${name}" is not a valid header name`);
    const refused = NEVER_FORWARDED.get(name);
    if (refused) throw new Error(`"${name}" cannot be forwarded: ${refused}`);
  }
  return names;
}

/**
 * A value as forwarded and keyed: trimmed, lowercased, inner whitespace
 * collapsed, control characters dropped, at most MAX_FORWARDED_VALUE_LENGTH
 * characters. `de-DE, en;q=0.5` and `de-de,  en;q=0.5 ` are one variant, so
 * trivial differences between browsers do not multiply cache entries.
 */
export function normaliseForwardedValue(value: string): string {
  return value
    .replace(/[\u0000-\u001f\u007f]/g, '') // eslint-disable-line no-control-regex -- dropping them is the point
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase()
    .slice(0, MAX_FORWARDED_VALUE_LENGTH);
}

/** Client headers as the fetch API (yoga) or Node (front steps) holds them. */
export type ClientHeaders = Headers | IncomingHttpHeaders;

/** The normalised values of `names` the client sent (absent or empty ones left out). */
export function forwardedHeaders(
  names: readonly string[],
  headers: ClientHeaders,
): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const name of names) {
    const raw = isFetchHeaders(headers) ? headers.get(name) : joined(headers[name]);
    const value = raw === null || raw === undefined ? '' : normaliseForwardedValue(raw);
    if (value !== '') forwarded[name] = value;
  }
  return forwarded;
}

/**
 * The part of a shared cache's key that the forwarded headers select: `''`
 * when nothing is forwarded (the keys of a gateway that forwards nothing stay as
 * they were), else a short hash of the names and normalised values (values may
 * hold any character; a key must not).
 */
export function forwardVariant(names: readonly string[], headers: ClientHeaders): string {
  if (names.length === 0) return '';
  const hash = createHash('sha256');
  const values = forwardedHeaders(names, headers);
  for (const name of names) hash.update(`${name}:${values[name] ?? ''}\n`);
  return hash.digest('base64url').slice(0, 22);
}

// Private helpers.

/** Not `instanceof Headers`: yoga's requests carry @whatwg-node/fetch's own Headers class. */
function isFetchHeaders(headers: ClientHeaders): headers is Headers {
  return typeof (headers as Headers).get === 'function';
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
