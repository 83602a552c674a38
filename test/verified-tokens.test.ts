import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createViewerVerifier } from '../src/auth.js';
import { silentLogger } from '../src/logger.js';

// Verified tokens are remembered so a client's next page skips the signature
// check; these prove that remembering never widens what is accepted.

const SECRET = 'verified-tokens-secret-long-enough-for-hs256';
const sign = (sub: string, exp: string | number) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(SECRET));

/** A verifier, and how many signature checks (key lookups) it has made. */
function countingVerifier() {
  let lookups = 0;
  const verify = createViewerVerifier({
    secret: SECRET,
    jwksUrl: null,
    logger: silentLogger,
    onKeyLookup: () => lookups++,
  });
  return { verify, lookups: () => lookups };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('verified token memory', () => {
  it('accepts the same token again, for the same user, without checking its signature again', async () => {
    const { verify, lookups } = countingVerifier();
    const token = await sign('u-1', '5m');

    expect(await verify(`Bearer ${token}`)).toEqual({ kind: 'user', userId: 'u-1' });
    expect(lookups()).toBe(1);
    expect(await verify(`Bearer ${token}`)).toEqual({ kind: 'user', userId: 'u-1' });
    expect(await verify(`Bearer ${token}`)).toEqual({ kind: 'user', userId: 'u-1' });
    expect(lookups()).toBe(1);
    // Another user's token is checked on its own.
    expect(await verify(`Bearer ${await sign('u-2', '5m')}`)).toEqual({
      kind: 'user',
      userId: 'u-2',
    });
    expect(lookups()).toBe(2);
  });

  it('refuses a remembered token once it has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { verify, lookups } = countingVerifier();
    const token = await sign('u-1', '30s');
    expect(await verify(`Bearer ${token}`)).toEqual({ kind: 'user', userId: 'u-1' });
    expect(await verify(`Bearer ${token}`)).toEqual({ kind: 'user', userId: 'u-1' });
    expect(lookups()).toBe(1); // Remembered…

    vi.setSystemTime(Date.now() + 40_000); // Past exp and the 5 s clock tolerance.

    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
      message: 'The access token has expired.',
    });
    expect(lookups()).toBe(2); // …until it expired: then checked again, and refused.
  });

  it('does not remember a token signed with another key, nor mistake a near copy for a known one', async () => {
    const verify = createViewerVerifier({ secret: SECRET, jwksUrl: null, logger: silentLogger });
    const token = await sign('u-1', '5m');
    await verify(`Bearer ${token}`);
    const [header, payload, signature] = token.split('.');
    const tampered = `${header}.${payload}.${signature?.slice(0, -2)}AA`;

    await expect(verify(`Bearer ${tampered}`)).rejects.toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
    });
  });
});
