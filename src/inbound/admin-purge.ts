import { createHash, timingSafeEqual } from 'node:crypto';
import {
  PURGE_CHOICES,
  targetsOf,
  type CachePurge,
  type PurgeChoice,
} from '../cache/purge-caches.js';
import { errorResponse, type RequestErrorCode } from '../errors/vocabulary.js';
import type { Logger } from '../logger.js';
import { createClientAddress } from './client-address.js';
import { pathOf, writeResponse } from './node-exchange.js';
import type { FrontStep } from './server.js';

/** Options of `createAdminPurge`. */
export type AdminPurgeOptions = {
  /** ADMIN_TOKEN (≥ 32 characters, checked by config.ts). */
  token: string;
  purge: CachePurge;
  logger: Logger;
  /** Proxies whose `X-Forwarded-For` is believed, for the address logged (TRUSTED_PROXIES). */
  trustedProxies: readonly string[];
  /** Default `/admin/purge`. */
  path?: string;
};

/** Longest `?tag=` (a book id); ids this long are not shared in Redis anyway. */
const MAX_TAG_LENGTH = 200;

/**
 * `POST /admin/purge?cache=promo|books|pages|all[&tag=<book id>]` with
 * `Authorization: Bearer <ADMIN_TOKEN>`: purges caches in every replica
 * (cache/purge-caches.ts) and answers what it purged as JSON.
 *
 * A front step that runs first, before admission: an operator fixing a wrong
 * price must get through when the gateway sheds load, and nothing of it is
 * cached. It matches its path exactly (query aside) and nothing else. The token
 * is compared as SHA-256 digests with `timingSafeEqual`: equal lengths always,
 * so neither the token's content nor its length leaks through timing. Every
 * attempt is logged with the client address and a fingerprint of the token
 * presented, never the token.
 */
export function createAdminPurge({
  token,
  purge,
  logger,
  trustedProxies,
  path = '/admin/purge',
}: AdminPurgeOptions): FrontStep {
  const expected = digest(token);
  const addressOf = createClientAddress(trustedProxies);

  const refuse = async (
    res: Parameters<FrontStep>[1],
    code: RequestErrorCode,
    headers?: Record<string, string>,
    message?: string,
  ) => {
    await writeResponse(
      res,
      errorResponse(code, {
        ...(message && { message }),
        headers: { 'cache-control': 'no-store', ...headers },
      }),
    );
    return { code, logged: true };
  };

  return async (req, res) => {
    if (pathOf(req.url) !== path) return false;
    const query = new URLSearchParams((req.url ?? '').slice(path.length + 1));
    req.resume(); // any body is ignored: everything is in the query
    // The method first, as a route table would: a GET is no attempt to purge.
    if (req.method !== 'POST') {
      const { code } = await refuse(res, 'METHOD_NOT_ALLOWED', { allow: 'POST' });
      return { code }; // the request log has it
    }
    const who = addressOf(req);
    const presented = bearerToken(req.headers.authorization);
    const fingerprint = presented === undefined ? undefined : fingerprintOf(presented);
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      logger.warn({ msg: 'admin purge refused', client: who, token: fingerprint ?? 'none' });
      return refuse(res, 'ADMIN_UNAUTHORIZED', { 'www-authenticate': 'Bearer realm="admin"' });
    }
    const choice = query.get('cache');
    const tag = query.get('tag');
    if (!isChoice(choice) || (tag !== null && (choice !== 'books' || !isTag(tag)))) {
      logger.warn({ msg: 'admin purge invalid', client: who, token: fingerprint, cache: choice });
      return refuse(res, 'PURGE_INVALID');
    }

    const result = await purge.purge({ targets: targetsOf(choice), tag });
    const log = { client: who, token: fingerprint, ...result };
    if (result.redis === 'unavailable') {
      logger.warn({ msg: 'admin purge incomplete', ...log });
      return refuse(res, 'PURGE_INCOMPLETE');
    }
    logger.info({ msg: 'admin purge', ...log });
    await writeResponse(
      res,
      new Response(JSON.stringify(result), {
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      }),
    );
    return { logged: true };
  };
}

// Private helpers.

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Enough to tell tokens apart in a log (after a rotation, say); useless to guess one. */
const fingerprintOf = (text: string) => digest(text).toString('hex').slice(0, 12);

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}

const isChoice = (value: string | null): value is PurgeChoice =>
  (PURGE_CHOICES as readonly (string | null)[]).includes(value);

/** A book id as the catalog could send it: no spaces or control characters, bounded. */
const isTag = (tag: string) => tag.length > 0 && tag.length <= MAX_TAG_LENGTH && /^\S+$/.test(tag);
