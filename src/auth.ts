import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { unauthenticated } from './errors.js';

/** Who is asking: a user proven by a verified token, or an anonymous visitor. */
export type Viewer = { kind: 'user'; userId: string } | { kind: 'anonymous' };

export type VerifyViewer = (authorization: string | null) => Promise<Viewer>;

/**
 * Builds the identity check. The user id comes only from the `sub` of an HS256
 * token signed with `secret`; no header means anonymous. A header that is present
 * but unusable (malformed, bad signature, expired, no `sub`) is a 401: silently
 * downgrading to anonymous would hide a broken client.
 */
export function createViewerVerifier(secret: string): VerifyViewer {
  const key = new TextEncoder().encode(secret);

  return async (authorization) => {
    if (authorization === null || authorization.trim() === '') return { kind: 'anonymous' };

    const match = /^Bearer\s+([A-Za-z0-9_\-.]+)\s*$/i.exec(authorization);
    if (!match?.[1]) {
      throw unauthenticated('The Authorization header must be "Bearer <token>".');
    }
    try {
      const { payload } = await jwtVerify(match[1], key, {
        algorithms: ['HS256'],
        requiredClaims: ['sub', 'exp'],
        clockTolerance: 5,
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('empty sub');
      return { kind: 'user', userId: payload.sub };
    } catch (error) {
      throw unauthenticated(
        error instanceof joseErrors.JWTExpired
          ? 'The access token has expired.'
          : 'The access token is invalid.',
      );
    }
  };
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
