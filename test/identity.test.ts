import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { useTestBeds, TEST_SECRET } from './helpers/gateway.js';

const startBed = useTestBeds();

const QUERY = '{ homepage { recommendations(limit: 1) { reason } } }';
const key = (secret: string) => new TextEncoder().encode(secret);

function sign(claims: { sub?: string; exp?: number | string; nbf?: number }, secret = TEST_SECRET) {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
  if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
  return jwt.sign(key(secret));
}

const now = () => Math.floor(Date.now() / 1000);

describe('identity', () => {
  it('treats a request without Authorization as anonymous: popular picks', async () => {
    const bed = await startBed();
    const { status, body } = await bed.query(QUERY);

    expect(status).toBe(200);
    expect(body.data?.homepage.recommendations).toEqual([{ reason: 'Bestseller' }]);
    expect(bed.upstreams.recommendations.requests.map((r) => r.path)).toEqual([
      '/recommendations/popular',
    ]);
  });

  it("uses the token's sub as the user id", async () => {
    const bed = await startBed();
    const token = await sign({ sub: 'u-7', exp: '5m' });
    const { body } = await bed.query(QUERY, { authorization: `Bearer ${token}` });

    expect(body.data?.homepage.recommendations).toEqual([{ reason: 'Picked for u-7' }]);
    expect(bed.upstreams.recommendations.requests.map((r) => r.path)).toEqual([
      '/users/u-7/recommendations',
    ]);
  });

  it('escapes the user id in the upstream path', async () => {
    const bed = await startBed();
    const token = await sign({ sub: '../../admin?x=1', exp: '5m' });
    await bed.query(QUERY, { authorization: `Bearer ${token}` });

    expect(bed.upstreams.recommendations.requests.map((r) => r.path)).toEqual([
      '/users/..%2F..%2Fadmin%3Fx%3D1/recommendations',
    ]);
  });

  const forged: Array<[string, () => Promise<string>]> = [
    ['expired', () => sign({ sub: 'u-1', exp: now() - 60 })],
    ['not yet valid', () => sign({ sub: 'u-1', exp: '10m', nbf: now() + 600 })],
    [
      'signed with another secret',
      () => sign({ sub: 'u-1', exp: '5m' }, 'another-secret-that-is-also-long-enough'),
    ],
    ['without exp', () => sign({ sub: 'u-1' })],
    ['without sub', () => sign({ exp: '5m' })],
    [
      'unsigned (alg none)',
      async () => new UnsecuredJWT({ sub: 'u-1' }).setExpirationTime('5m').encode(),
    ],
    [
      'with a tampered payload',
      async () => {
        const [header, , signature] = (await sign({ sub: 'u-1', exp: '5m' })).split('.');
        const payload = Buffer.from(JSON.stringify({ sub: 'u-2', exp: now() + 300 })).toString(
          'base64url',
        );
        return `${header}.${payload}.${signature}`;
      },
    ],
    ['that is not a JWT', async () => 'not-a-jwt'],
  ];

  it.each(forged)('rejects a token %s with 401 and calls no upstream', async (_name, makeToken) => {
    const bed = await startBed();
    const { status, body } = await bed.query(QUERY, {
      authorization: `Bearer ${await makeToken()}`,
    });

    expect(status).toBe(401);
    expect(body.data).toBeUndefined();
    expect(body.errors).toEqual([
      {
        message: expect.stringMatching(/^The access token (is invalid|has expired)\.$/),
        extensions: { code: 'UNAUTHENTICATED' },
      },
    ]);
    for (const upstream of Object.values(bed.upstreams)) expect(upstream.requests).toHaveLength(0);
  });

  it.each(['Basic dTpw', 'Bearer', 'Bearer a b', 'token abc'])(
    'rejects the malformed header "%s" with 401 rather than falling back to anonymous',
    async (authorization) => {
      const bed = await startBed();
      const { status, body } = await bed.query(QUERY, { authorization });

      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(bed.upstreams.recommendations.requests).toHaveLength(0);
    },
  );

  it('says an expired token has expired, and asks for a bearer token', async () => {
    const bed = await startBed();
    const token = await sign({ sub: 'u-1', exp: now() - 60 });
    const { status, headers, body } = await bed.query(QUERY, { authorization: `Bearer ${token}` });

    expect(status).toBe(401);
    expect(body.errors?.[0]?.message).toBe('The access token has expired.');
    expect(headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('offers no query argument to choose the user', async () => {
    const bed = await startBed();
    const { body } = await bed.query('{ homepage { recommendations(userId: "u-2") { reason } } }');

    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.message).toMatch(/Unknown argument "userId"/);
    expect(bed.upstreams.recommendations.requests).toHaveLength(0);
  });
});
