import { randomUUID } from 'node:crypto';

const ids = new WeakMap<Request, string>();
const SAFE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's id: the caller's `x-request-id` when it is a sane token, else a
 * new UUID. The same for every part of the gateway that asks about this request.
 */
export function requestIdOf(request: Request): string {
  let id = ids.get(request);
  if (id === undefined) {
    id = requestIdFrom(request.headers.get('x-request-id'));
    ids.set(request, id);
  }
  return id;
}

/** The id for a request carrying `given` as its `x-request-id` (answered without yoga: the page cache). */
export function requestIdFrom(given: string | null | undefined): string {
  return given != null && SAFE.test(given) ? given : randomUUID();
}
