import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { promoHandler, PROMOTIONS } from './helpers/fixtures.js';
import { HOMEPAGE_QUERY, TEST_SECRET, useTestBeds } from './helpers/gateway.js';

// TLS to an upstream with a private CA and a client certificate (mutual TLS),
// with certificates made here by openssl and a real HTTPS upstream on loopback
// that refuses any client without a certificate its CA signed.

const startBed = useTestBeds();
let dir = '';
let promo: Server;
let promoUrl = '';
let promoRequests = 0;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bff-tls-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=test CA',
    '-days',
    '1',
  );
  const signed = (name: string, extensions: string) => {
    openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(file(`${name}.ext`), extensions);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  };
  signed('upstream', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed('gateway', 'extendedKeyUsage=clientAuth\n');

  const answer = promoHandler();
  promo = createServer(
    {
      key: readFileSync(file('upstream.key')),
      cert: readFileSync(file('upstream.crt')),
      ca: readFileSync(file('ca.crt')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      promoRequests++;
      void answer(req, res, new URL(req.url ?? '/', 'https://upstream'));
    },
  );
  await new Promise<void>((resolve) => promo.listen(0, '127.0.0.1', resolve));
  promoUrl = `https://127.0.0.1:${(promo.address() as { port: number }).port}`;
});

afterAll(async () => {
  promo.closeAllConnections();
  await new Promise((resolve) => promo.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of a gateway whose promo is the HTTPS upstream; the other URLs are unused. */
const env = (tls: Record<string, string>) => ({
  PROMO_URL: promoUrl,
  RECOMMENDATIONS_URL: 'http://127.0.0.1:1',
  CATALOG_URL: 'http://127.0.0.1:1',
  JWT_SECRET: TEST_SECRET,
  ...tls,
});

/** A gateway whose promo client is configured from `tls` as the process would be. */
async function bedWith(tls: Record<string, string>) {
  const config = loadConfig(env(tls));
  return startBed({
    urls: { promo: promoUrl },
    policies: { promo: { tls: config.policies.promo.tls } },
  });
}

describe('TLS to an upstream', () => {
  it('gets promo from an upstream that requires a client certificate when given the CA, certificate and key', async () => {
    const bed = await bedWith({
      PROMO_CA_FILE: file('ca.crt'),
      PROMO_CERT_FILE: file('gateway.crt'),
      PROMO_KEY_FILE: file('gateway.key'),
    });
    const { body } = await bed.query(HOMEPAGE_QUERY);
    expect(body.errors).toBeUndefined();
    expect(body.data?.homepage.promo.map((banner: { id: string }) => banner.id)).toEqual(
      PROMOTIONS.map(({ id }) => id),
    );
  });

  it('answers promo null with UPSTREAM_UNAVAILABLE when the gateway has no client certificate', async () => {
    const before = promoRequests;
    const bed = await bedWith({ PROMO_CA_FILE: file('ca.crt') });
    const { status, body } = await bed.query(HOMEPAGE_QUERY);
    expect(status).toBe(200);
    expect(body.data?.homepage.promo).toBeNull();
    expect(body.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([
      [['homepage', 'promo'], 'UPSTREAM_UNAVAILABLE'],
    ]);
    expect(promoRequests).toBe(before); // refused at the handshake: no request got through
  });

  it('does not trust the upstream without its private CA', async () => {
    const bed = await bedWith({
      PROMO_CERT_FILE: file('gateway.crt'),
      PROMO_KEY_FILE: file('gateway.key'),
    });
    const { body } = await bed.query(HOMEPAGE_QUERY);
    expect(body.data?.homepage.promo).toBeNull();
    expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
  });
});

describe('TLS configuration', () => {
  const problem = (tls: Record<string, string>) => {
    try {
      loadConfig(env(tls));
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('the configuration was accepted');
  };

  it('stops startup naming the variable of a missing file', () => {
    expect(problem({ PROMO_CA_FILE: file('nowhere.crt') })).toMatch(/PROMO_CA_FILE: .*ENOENT/);
  });

  it('refuses a client certificate without its key, and a key that is not PEM', () => {
    expect(problem({ PROMO_CERT_FILE: file('gateway.crt') })).toMatch(
      /PROMO_KEY_FILE: a client certificate needs both/,
    );
    expect(
      problem({ PROMO_CERT_FILE: file('gateway.crt'), PROMO_KEY_FILE: file('gateway.ext') }),
    ).toMatch(/PROMO_KEY_FILE: /);
  });

  it('refuses a key that does not match the certificate', () => {
    expect(
      problem({ PROMO_CERT_FILE: file('gateway.crt'), PROMO_KEY_FILE: file('upstream.key') }),
    ).toMatch(/PROMO_KEY_FILE: .*(mismatch|key values)/i);
  });

  it('refuses TLS files for a plain-HTTP upstream', () => {
    expect(problem({ CATALOG_CA_FILE: file('ca.crt') })).toMatch(
      /CATALOG_CA_FILE: needs an https:\/\/ CATALOG_URL/,
    );
  });
});
