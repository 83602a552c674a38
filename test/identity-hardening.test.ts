import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBeds, TEST_SECRET } from './helpers/gateway.js';
import { sendJson, startUpstream, type Upstream } from './helpers/upstream.js';

const startBed = useTestBeds();
const QUERY = '{ homepage { recommendations(limit: 1) { reason } } }';
const now = () => Math.floor(Date.now() / 1000);

let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let publicJwk: JWK;
beforeAll(async () => {
  keys = await generateKeyPair('RS256', { extractable: true });
  publicJwk = { ...(await exportJWK(keys.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
});

function rs256(claims: Record<string, unknown>, kid = 'key-1') {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid })
    .setSubject('u-jwks')
    .setExpirationTime('5m')
    .sign(keys.privateKey);
}

async function jwksServer(handler?: Parameters<typeof startUpstream>[0]): Promise<Upstream> {
  return startUpstream(handler ?? ((_req, res) => sendJson(res, { keys: [publicJwk] })));
}

describe('tokens from a JWKS endpoint', () => {
  it('accepts an RS256 token signed by a published key', async () => {
    const jwks = await jwksServer();
    const bed = await startBed({
      auth: { secret: null, jwksUrl: `${jwks.url}/.well-known/jwks.json` },
    });
    const { status, body } = await bed.query(QUERY, { authorization: `Bearer ${await rs256({})}` });

    expect(status).toBe(200);
    expect(body.data?.homepage.recommendations).toEqual([{ reason: 'Picked for u-jwks' }]);
    await jwks.close();
  });

  it('rejects HS256 signed with the public key (algorithm confusion) with 401', async () => {
    const jwks = await jwksServer();
    const bed = await startBed({ auth: { secret: null, jwksUrl: jwks.url } });
    const pem = new TextEncoder().encode(await exportSPKI(keys.publicKey));
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
      .setSubject('u-victim')
      .setExpirationTime('5m')
      .sign(pem);
    const { status } = await bed.query(QUERY, { authorization: `Bearer ${forged}` });

    expect(status).toBe(401);
    expect(bed.upstreams.recommendations.requests).toHaveLength(0);
    await jwks.close();
  });

  it('refetches the key set for unknown kids at most once per cooldown', async () => {
    const jwks = await jwksServer();
    const bed = await startBed({ auth: { secret: null, jwksUrl: jwks.url } });
    for (let i = 0; i < 5; i++) {
      const { status } = await bed.query(QUERY, {
        authorization: `Bearer ${await rs256({}, `unknown-${i}`)}`,
      });
      expect(status).toBe(401);
    }
    // One fetch to load the set, at most one more for the unknown kids.
    expect(jwks.requests.length).toBeLessThanOrEqual(2);
    await jwks.close();
  });

  it('fails closed, quickly, with 503 when the key endpoint hangs', async () => {
    const jwks = await jwksServer(() => {});
    const bed = await startBed({ auth: { secret: null, jwksUrl: jwks.url } });
    const started = performance.now();
    const { status, body } = await bed.query(QUERY, { authorization: `Bearer ${await rs256({})}` });

    expect(status).toBe(503);
    expect(body.errors?.[0]?.extensions?.code).toBe('AUTH_UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(5000);
    expect(bed.upstreams.recommendations.requests).toHaveLength(0);
    await jwks.close();
  });

  it('fails closed with 503 when the key endpoint answers 500', async () => {
    const jwks = await jwksServer((_req, res) => sendJson(res, {}, 500));
    const bed = await startBed({ auth: { secret: null, jwksUrl: jwks.url } });
    const { status } = await bed.query(QUERY, { authorization: `Bearer ${await rs256({})}` });
    expect(status).toBe(503);
    await jwks.close();
  });
});

describe('issuer, audience and size', () => {
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u-1')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(TEST_SECRET));
  const auth = { issuer: 'https://id.bookshop.example', audience: 'homepage-bff' };

  it.each([
    ['the wrong issuer', { iss: 'https://evil.example', aud: 'homepage-bff' }],
    ['no issuer', { aud: 'homepage-bff' }],
    ['the wrong audience', { iss: auth.issuer, aud: 'other-app' }],
    ['no audience', { iss: auth.issuer }],
  ])('rejects a token with %s when JWT_ISSUER and JWT_AUDIENCE are set', async (_name, claims) => {
    const bed = await startBed({ auth });
    const { status } = await bed.query(QUERY, { authorization: `Bearer ${await sign(claims)}` });
    expect(status).toBe(401);
  });

  it('accepts the right issuer and audience', async () => {
    const bed = await startBed({ auth });
    const { status } = await bed.query(QUERY, {
      authorization: `Bearer ${await sign({ iss: auth.issuer, aud: 'homepage-bff' })}`,
    });
    expect(status).toBe(200);
  });

  it('rejects an oversized token unread', async () => {
    const bed = await startBed();
    const { status } = await bed.query(QUERY, {
      authorization: `Bearer ${await sign({ padding: 'x'.repeat(10_000) })}`,
    });
    expect(status).toBe(401);
  });

  it('tolerates a few seconds of clock skew, not more', async () => {
    const bed = await startBed();
    const skewed = (exp: number) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('u-1')
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(TEST_SECRET));
    expect(
      (await bed.query(QUERY, { authorization: `Bearer ${await skewed(now() - 2)}` })).status,
    ).toBe(200);
    expect(
      (await bed.query(QUERY, { authorization: `Bearer ${await skewed(now() - 60)}` })).status,
    ).toBe(401);
  });
});

describe("one user never gets another's recommendations", () => {
  const attempts: Array<[string, string, Record<string, unknown>?, Record<string, string>?]> = [
    ['a plain query', QUERY],
    [
      'aliases',
      '{ a: homepage { r: recommendations { reason } } b: homepage { recommendations(limit: 2) { reason } } }',
    ],
    [
      'a fragment',
      'query { ...H } fragment H on Query { homepage { recommendations { reason } } }',
    ],
    [
      'variables naming another user',
      'query($userId: ID) { homepage { recommendations { reason } } }',
      { userId: 'u-B' },
    ],
    ['extensions naming another user', QUERY, undefined],
    [
      'headers naming another user',
      QUERY,
      undefined,
      { 'x-user-id': 'u-B', 'x-forwarded-user': 'u-B' },
    ],
  ];

  it.each(attempts)(
    "asks only for the token's user via %s",
    async (_name, query, variables, headers) => {
      const bed = await startBed();
      const token = await bed.tokenFor('u-A');
      const { body } = await bed.request({
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          ...headers,
        },
        body: JSON.stringify({ query, variables, extensions: { userId: 'u-B', viewer: 'u-B' } }),
      });

      expect(JSON.stringify(body)).not.toContain('u-B');
      // Either the attempt is refused outright (an unused variable fails validation)
      // or it is served for u-A only.
      if (body.data) expect(bed.upstreams.recommendations.requests.length).toBeGreaterThan(0);
      for (const request of bed.upstreams.recommendations.requests) {
        expect(request.path).toBe('/users/u-A/recommendations');
      }
    },
  );
});
