import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { forwardedHeaders } from '../outbound/forward-headers.js';
import { PREFLIGHT_HEADERS } from '../plugins/use-csrf-prevention.js';

// What makes two anonymous requests "the same page": the cache key. It covers
// everything the pipeline reads to build the answer's bytes or to accept or
// refuse the request, so a key that yoga answered once gets the same verdict
// every time:
//
// | input                               | read by                                          |
// | ----------------------------------- | ------------------------------------------------ |
// | method, path and query string       | GET parameters (query/documentId, variables, …)  |
// | the body, byte for byte             | POST parameters, trusted documents, query limits |
// | `Content-Type`                      | body parsing, CSRF prevention (simple or not)    |
// | the preflight headers (present?)    | CSRF prevention (PREFLIGHT_HEADERS)              |
// | `Accept`                            | response media type, incremental delivery        |
// | `Accept-Encoding`                   | compression of the answer (gzip, brotli, none)   |
// | `Origin`                            | CORS headers on the answer                       |
// | forwarded headers (normalised)      | upstreams (`<SERVICE>_FORWARD_HEADERS`)          |
//
// The body is keyed by its exact bytes rather than by a parsed, normalised form:
// a client sends the same bytes for the same operation, and normalising would
// mean re-implementing yoga's parameter rules (an unexpected field is refused
// there; a normalised key could serve a hit to a request yoga would refuse).
// `Authorization` and `Cookie` are not in the key: requests carrying them never
// reach the cache (see `isAnonymous`). A page is stored as yoga sent it,
// compressed or not, so `Accept-Encoding` is in the key as sent.

/** Request headers in the key: their values select the answer. */
const VALUE_HEADERS = ['accept', 'accept-encoding', 'content-type', 'origin'] as const;
/** Request headers in the key by presence only (CSRF prevention looks at no more). */
const PRESENCE_HEADERS = PREFLIGHT_HEADERS;

/**
 * `Vary` of every shared answer: the headers in the key, and the credentials
 * whose presence turns the answer private, so no HTTP cache downstream serves
 * an anonymous page to a signed-in visitor.
 */
export const PAGE_VARY = [
  'Accept',
  'Accept-Encoding',
  'Content-Type',
  'Origin',
  ...PRESENCE_HEADERS,
  'Authorization',
  'Cookie',
].join(', ');

/** `Vary` of shared answers when upstreams receive `forwarded` client headers too. */
export function pageVary(forwarded: readonly string[]): string {
  return forwarded.length === 0 ? PAGE_VARY : `${PAGE_VARY}, ${forwarded.join(', ')}`;
}

/** The parts of a request the key is made of. */
export type KeyedRequest = {
  method: string;
  /** Path and query string, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer | null;
};

/** No credentials of any kind: the only requests the page cache serves. */
export function isAnonymous(headers: IncomingHttpHeaders): boolean {
  return headers.authorization === undefined && headers.cookie === undefined;
}

/** Every header the key or `isAnonymous` reads. */
const KEY_HEADERS = new Set<string>([
  ...VALUE_HEADERS,
  ...PRESENCE_HEADERS,
  'authorization',
  'cookie',
]);

/**
 * Whether a header the key reads came more than once. Node keeps the first of
 * some (`Content-Type`, `Authorization`) and joins others, while yoga reads them
 * all joined: the key and the pipeline could then see different requests (a
 * form POST with a second JSON Content-Type got a cached 200 served to plain
 * form POSTs). Such a request is never cached.
 */
export function hasRepeatedKeyHeader(rawHeaders: readonly string[]): boolean {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (!KEY_HEADERS.has(name)) continue;
    if (seen.has(name)) return true;
    seen.add(name);
  }
  return false;
}

/**
 * The page's key: a SHA-256 over every input above (short, and ready for a shared
 * store). `forwarded`: the client headers any upstream receives, keyed by the
 * normalised value it receives; with none, keys are as they always were.
 */
export function pageKey(
  { method, url, headers, body }: KeyedRequest,
  forwarded: readonly string[] = [],
): string {
  // One string, then the body: each `update` is a call into C++, and a hit is
  // short enough for a dozen of them to show.
  let text = `${method} ${url}\n`;
  for (const name of VALUE_HEADERS) text += `${name}:${headerText(headers[name])}\n`;
  for (const name of PRESENCE_HEADERS) text += `${name}:${headers[name] !== undefined}\n`;
  if (forwarded.length > 0) {
    const values = forwardedHeaders(forwarded, headers);
    for (const name of forwarded) text += `forwarded ${name}:${values[name] ?? ''}\n`;
  }
  const hash = createHash('sha256').update(text);
  if (body !== null) hash.update(body);
  return hash.digest('base64url');
}

/** The key headers' values, to send the same request again (a background refresh). */
export function keyHeaders(
  headers: IncomingHttpHeaders,
  forwarded: readonly string[] = [],
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of [...VALUE_HEADERS, ...PRESENCE_HEADERS]) {
    const value = headers[name];
    if (value !== undefined) kept[name] = headerText(value);
  }
  // As keyed: the refresh then sends upstreams the very values the page is filed under.
  return forwarded.length === 0 ? kept : { ...kept, ...forwardedHeaders(forwarded, headers) };
}

/** A header's value as one string (repeated headers joined), `''` when absent. */
export function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}
