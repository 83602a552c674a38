import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
  type JWTVerifyGetKey,
} from 'jose';
import { LRUCache } from 'lru-cache';
import { requestError, unauthenticated } from './errors/vocabulary.js';
import type { Logger } from './logger.js';

/** Who is asking: a user proven by a verified token, or an anonymous visitor. */
export type Viewer = { kind: 'user'; userId: string } | { kind: 'anonymous' };

export type VerifyViewer = (authorization: string | null) => Promise<Viewer>;

/** How tokens are verified: a shared HS256 secret, or an issuer's JWKS endpoint. */
export type AuthOptions = {
  /** HS256 key. Exactly one of `secret` and `jwksUrl` is set. */
  secret: string | null;
  /** JSON Web Key Set of the identity provider (asymmetric keys: RS256, ES256, …). */
  jwksUrl: string | null;
  /** Required `iss`, when set. */
  issuer?: string | undefined;
  /** Required `aud`, when set. */
  audience?: string | undefined;
  logger: Logger;
  /** Hears of every signature check, i.e. every key lookup (tests count them). */
  onKeyLookup?: () => void;
};

/** Tokens past this size are refused unread: no real access token is this large. */
export const MAX_TOKEN_BYTES = 8 * 1024;
/** Clock skew tolerated on `exp`/`nbf`/`iat`, in seconds. */
const CLOCK_TOLERANCE_S = 5;
/** Asymmetric algorithms accepted from a JWKS; HS* never is, so a public key cannot sign. */
const JWKS_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];

/**
 * Builds the identity check. The user id comes only from the `sub` of a verified
 * token; no header means anonymous. A header that is present but unusable
 * (malformed, forged, expired, wrong issuer or audience, no `sub`) is a 401:
 * silently downgrading to anonymous would hide a broken client. When the key
 * endpoint cannot be reached the request fails closed, with a 503 that tells the
 * client to retry rather than to sign in again.
 */
export function createViewerVerifier({
  secret,
  jwksUrl,
  issuer,
  audience,
  logger,
  onKeyLookup,
}: AuthOptions): VerifyViewer {
  // Imported once: jose would import raw bytes again on every verification.
  const secretKey =
    secret === null
      ? null
      : crypto.subtle.importKey(
          'raw',
          new TextEncoder().encode(secret),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['verify'],
        );
  const { key: lookUp, algorithms }: { key: JWTVerifyGetKey; algorithms: string[] } = jwksUrl
    ? {
        key: createRemoteJWKSet(new URL(jwksUrl), {
          // Fail closed quickly; refetch for an unknown `kid` at most every 30 s;
          // keep keys for 10 minutes.
          timeoutDuration: 1500,
          cooldownDuration: 30_000,
          cacheMaxAge: 600_000,
        }),
        algorithms: JWKS_ALGORITHMS,
      }
    : { key: async () => (await secretKey) as CryptoKey, algorithms: ['HS256'] };
  const key: JWTVerifyGetKey = (header, token) => {
    onKeyLookup?.();
    return lookUp(header, token);
  };
  const verified = new VerifiedTokens();
  const verifyOptions = {
    algorithms,
    requiredClaims: ['sub', 'exp'],
    clockTolerance: CLOCK_TOLERANCE_S,
    ...(issuer !== undefined && { issuer }),
    ...(audience !== undefined && { audience }),
  };

  return async (authorization) => {
    if (authorization === null || authorization.trim() === '') return { kind: 'anonymous' };
    if (authorization.length > MAX_TOKEN_BYTES) {
      throw unauthenticated('The access token is invalid.');
    }
    const match = /^Bearer\s+([A-Za-z0-9_\-.]+)\s*$/i.exec(authorization);
    if (!match?.[1]) {
      throw unauthenticated('The Authorization header must be "Bearer <token>".');
    }
    const token = match[1];
    const known = verified.get(token);
    if (known !== undefined) return { kind: 'user', userId: known };
    let sub: unknown;
    let exp: number | undefined;
    try {
      ({
        payload: { sub, exp },
      } = await jwtVerify(token, key, verifyOptions));
    } catch (error) {
      if (isKeySourceFailure(error)) {
        logger.warn(`Cannot verify tokens: key endpoint failed: ${String(error)}`);
        throw requestError('AUTH_UNAVAILABLE', { headers: { 'Retry-After': '5' } });
      }
      throw unauthenticated(
        error instanceof joseErrors.JWTExpired
          ? 'The access token has expired.'
          : 'The access token is invalid.',
      );
    }
    if (typeof sub !== 'string' || sub === '')
      throw unauthenticated('The access token is invalid.');
    if (exp !== undefined) verified.remember(token, sub, exp * 1000);
    return { kind: 'user', userId: sub };
  };
}

/**
 * Tokens already verified, so a client's next page costs a lookup rather than a
 * signature check (which was a measurable share of a page: BENCHMARKS.md). An
 * entry is kept at most a minute and never past the token's `exp`, so a key
 * rotated out of a JWKS stops being honoured within a minute. Bounded by total
 * token size, not count, since tokens may be up to 8 KiB.
 */
class VerifiedTokens {
  static readonly MAX_AGE_MS = 60_000;
  readonly #cache = new LRUCache<string, { userId: string; expiresAt: number }>({
    maxSize: 4 * 1024 * 1024,
    sizeCalculation: (_value, token) => token.length,
    ttl: VerifiedTokens.MAX_AGE_MS,
  });

  get(token: string): string | undefined {
    const entry = this.#cache.get(token);
    if (entry === undefined) return undefined;
    if (Date.now() < entry.expiresAt) return entry.userId;
    this.#cache.delete(token);
    return undefined;
  }

  remember(token: string, userId: string, expiresAt: number) {
    const ttl = Math.min(VerifiedTokens.MAX_AGE_MS, expiresAt - Date.now());
    if (ttl > 0) this.#cache.set(token, { userId, expiresAt }, { ttl });
  }
}

/** The key endpoint was unreachable, slow or broken: not the token's fault. */
function isKeySourceFailure(error: unknown): boolean {
  if (!(error instanceof joseErrors.JOSEError)) return true; // fetch itself failed
  // jose reports a non-200 key endpoint with its generic error code.
  return (
    error instanceof joseErrors.JWKSTimeout ||
    error instanceof joseErrors.JWKSInvalid ||
    error.code === 'ERR_JOSE_GENERIC'
  );
}

/**
 * Signs a token the gateway accepts, for development and tests (`npm run token`).
 * Production tokens come from the identity provider, not from here.
 */
export function signToken(secret: string, userId: string, expiresIn = '12h'): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
