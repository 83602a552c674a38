// Soak: several minutes of mixed faults against the gateway, sampling heap and open
// sockets. Not part of `npm test`; run it by hand:
//   npm run soak                 (3 minutes)
//   SOAK_SECONDS=600 npm run soak
// Everything is on loopback and the load stops by itself. Figures go to stdout.
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGateway } from '../src/app.js';
import { signToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { demoReply } from '../src/demo/services.js';
import { listen } from './lib.js';
import { silentLogger } from '../src/logger.js';
import { fetch as clientFetch, Agent } from 'undici';

// The load client has its own connection pool, apart from the gateway's.
const clientAgent = new Agent({ connections: 16 });

const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const CONCURRENCY = 8;
const SAMPLE_EVERY_MS = 10_000;
const SECRET = 'soak-secret-that-is-long-enough-for-hs256';

type Fault = 'ok' | 'error' | 'hang' | 'reset' | 'stall' | 'garbage';

/** Picks a fault for one request; weights per upstream, promo flaps every 20 s. */
function pickFault(weights: Partial<Record<Fault, number>>): Fault {
  let r = Math.random();
  for (const [fault, weight] of Object.entries(weights) as Array<[Fault, number]>) {
    if ((r -= weight) < 0) return fault;
  }
  return 'ok';
}

function upstream(weights: () => Partial<Record<Fault, number>>, body: (url: URL) => unknown) {
  return createServer((req, res) => {
    const fault = pickFault(weights());
    const url = new URL(req.url ?? '/', 'http://x');
    switch (fault) {
      case 'error':
        res.writeHead(503).end();
        return;
      case 'hang':
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'stall':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"items":[');
        return;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>oops</html>');
        return;
      case 'ok':
        setTimeout(
          () => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body(url)));
          },
          5 + Math.random() * 20,
        );
    }
  });
}

const started = Date.now();
const promoFlapping = () => Math.floor((Date.now() - started) / 20_000) % 2 === 1;
// SOAK_FAULTS='{"catalog":{"reset":0.1}}' replaces the mix for the services it names.
const override = JSON.parse(process.env.SOAK_FAULTS ?? '{}') as Record<
  string,
  Partial<Record<Fault, number>>
>;
const mix = (service: string, normal: () => Partial<Record<Fault, number>>) => () =>
  override[service] ?? normal();
const servers = {
  promo: upstream(
    mix('promo', () => (promoFlapping() ? { error: 0.9 } : { hang: 0.02 })),
    (url) => demoReply('promo', url).body,
  ),
  recommendations: upstream(
    mix('recommendations', () => ({ error: 0.15, hang: 0.03, reset: 0.03, stall: 0.02 })),
    (url) => demoReply('recommendations', url).body,
  ),
  catalog: upstream(
    mix('catalog', () => ({ error: 0.05, reset: 0.05, garbage: 0.03, stall: 0.02 })),
    (url) => demoReply('catalog', url).body,
  ),
};
const urls = {
  promo: await listen(servers.promo),
  recommendations: await listen(servers.recommendations),
  catalog: await listen(servers.catalog),
};
const defaults = loadConfig({});
const gatewayServer = createServer(
  createGateway({
    ...defaults,
    upstreamUrls: urls,
    auth: { ...defaults.auth, secret: SECRET },
    promoCache: { ttlMs: 2000, staleWhileRevalidateMs: 2000, staleIfErrorMs: 30_000 },
    logger: silentLogger,
  }),
);
const endpoint = `${await listen(gatewayServer)}/graphql`;
const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => signToken(SECRET, `u-${i}`)));
const query = JSON.stringify({
  query:
    '{ homepage { promo { id book { title } } recommendations { score book { title price { amount } } } } }',
});

const counts = { requests: 0, complete: 0, partial: 0, broken: 0 };
const errorCodes: Record<string, number> = {};
async function worker(until: number) {
  while (Date.now() < until) {
    const token = tokens[Math.floor(Math.random() * tokens.length)];
    const anonymous = Math.random() < 0.3;
    counts.requests++;
    const t0 = Date.now();
    try {
      const response = await clientFetch(endpoint, {
        dispatcher: clientAgent,
        // Far past the gateway's deadline: a request this slow is a hang, not a slow page.
        signal: AbortSignal.timeout(10_000),
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(anonymous ? {} : { authorization: `Bearer ${token}` }),
        },
        body: query,
      });
      const body = (await response.json()) as {
        data?: unknown;
        errors?: Array<{ path?: unknown[]; extensions?: { code?: string; service?: string } }>;
      };
      for (const error of body.errors ?? []) {
        const key = `${error.extensions?.service ?? error.path?.[0]} ${error.extensions?.code}`;
        errorCodes[key] = (errorCodes[key] ?? 0) + 1;
      }
      if (response.status !== 200 || !body.data) {
        counts.broken++;
        if (counts.broken <= 3)
          console.log('broken:', response.status, JSON.stringify(body).slice(0, 300));
      } else if (body.errors) counts.partial++;
      else counts.complete++;
    } catch (error) {
      counts.broken++;
      if (counts.broken <= 3)
        console.log('broken after', Date.now() - t0, 'ms:', String((error as Error).cause));
    }
  }
}

function sample() {
  globalThis.gc?.();
  const sockets = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
  return {
    at: `${Math.round((Date.now() - started) / 1000)} s`,
    heapMB: +(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1),
    rssMB: +(process.memoryUsage().rss / 2 ** 20).toFixed(1),
    sockets,
    requests: counts.requests,
  };
}

const until = started + SECONDS * 1000;
const samples = [sample()];
const workers = Array.from({ length: CONCURRENCY }, () => worker(until));
while (Date.now() < until) {
  await sleep(Math.min(SAMPLE_EVERY_MS, until - Date.now()));
  samples.push(sample());
  console.log(JSON.stringify(samples.at(-1)));
}
await Promise.all(workers);
await sleep(2000); // let in-flight upstream timeouts finish
samples.push({ ...sample(), at: 'after load' });
for (const server of [gatewayServer, ...Object.values(servers)]) {
  server.closeAllConnections();
  server.close();
}
console.table(samples);
console.log(counts);
console.log(errorCodes);
if (!globalThis.gc) console.log('(run with --expose-gc for heap figures after collection)');
