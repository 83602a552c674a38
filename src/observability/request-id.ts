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
    const given = request.headers.get('x-request-id');
    id = given !== null && SAFE.test(given) ? given : randomUUID();
    ids.set(request, id);
  }
  return id;
}
