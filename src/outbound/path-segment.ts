/**
 * One path segment of an upstream URL, built from input (a token's `sub`, an
 * argument): percent-encoded, so `/`, `%2F`, `?` or `#` stay inside the segment.
 * `.` and `..` cannot be encoded away (URL parsers read `%2e` as a dot too, and
 * `users/../recommendations` became `/recommendations` upstream): they, and the
 * empty string, are refused, since no resource is named by them.
 */
export function pathSegment(value: string): string {
  if (value === '' || value === '.' || value === '..') {
    throw new RangeError(`${JSON.stringify(value)} cannot be an upstream path segment`);
  }
  return encodeURIComponent(value);
}
