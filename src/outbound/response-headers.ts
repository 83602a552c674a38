// Reading the two response headers the gateway acts on. Both are parsed leniently:
// an unreadable value is treated as absent, never as an error.

/**
 * `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP-date.
 * `undefined` when absent or unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How long a response may be reused by a *shared* cache, in ms: `s-maxage` wins
 * over `max-age`; `no-store`, `no-cache` and `private` mean 0 (do not reuse).
 * `undefined` when the header says nothing about it.
 */
export function sharedMaxAgeMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const directives = new Map(
    header.split(',').map((part) => {
      const [name = '', value] = part.trim().toLowerCase().split('=', 2);
      return [name, value?.replace(/^"|"$/g, '')] as const;
    }),
  );
  if (directives.has('no-store') || directives.has('no-cache') || directives.has('private')) {
    return 0;
  }
  for (const name of ['s-maxage', 'max-age']) {
    const seconds = directives.get(name);
    if (seconds !== undefined && /^\d+$/.test(seconds)) return Number(seconds) * 1000;
  }
  return undefined;
}
