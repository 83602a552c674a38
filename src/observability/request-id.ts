import { randomUUID } from 'node:crypto';

const SAFE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The id for a request carrying `given` as its `x-request-id`: the caller's id
 * when it is a sane token, else a new UUID. Made once per request, by its record
 * (request-record.ts), or by the page cache for an answer given without yoga.
 */
export function requestIdFrom(given: string | null | undefined): string {
  return given != null && SAFE.test(given) ? given : randomUUID();
}
