// CPU cost of one page, in process: npm run bench:cost
// Gateways are built with createGateway and driven through yoga's fetch (no
// HTTP server in front, no client in the process); the upstreams answer from a
// child process. Three gateways live in the one process: A, a second A (the
// A/A pair, whose spread is this run's noise floor) and B. They take turns,
// round after round, starting with a different one each round, so that the
// machine's drift touches all three alike. Prints each one's CPU µs per page
// (over rounds of pages at concurrency 16) and B against A, "no change" when
// the difference is within the A/A spread.
//   COST_A='{}'                      configuration of A, as environment variables
//   COST_B='{"METRICS":"false"}'     configuration of B (default: the same as A)
//   COST_ROUNDS=9  COST_PAGES=1500   rounds (after one warm-up round), pages per turn
// Anything in front of yoga (the HTTP server's front steps) is not in this figure.
import { createGateway, type Gateway } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { PerService } from '../src/upstreams/services.js';
import { silentLogger } from '../src/logger.js';
import {
  BENCH_SECRET,
  firstMessage,
  median,
  pageRequest,
  spawnPinned,
  UNCACHED_ENV,
} from './lib.js';

const ROUNDS = Number(process.env.COST_ROUNDS ?? 9);
const PAGES = Number(process.env.COST_PAGES ?? 1500);
const CONCURRENCY = 16;
const envA = JSON.parse(process.env.COST_A ?? '{}') as Record<string, string>;
const envB = JSON.parse(process.env.COST_B ?? process.env.COST_A ?? '{}') as Record<string, string>;

const upstreams = spawnPinned(1, [
  '--import',
  'tsx',
  new URL('upstreams.ts', import.meta.url).pathname,
]);
const { urls } = await firstMessage<{ urls: PerService<string> }>(upstreams);
const gatewayWith = (env: Record<string, string>): Gateway => {
  const config = loadConfig({
    NODE_ENV: 'production',
    JWT_SECRET: BENCH_SECRET,
    ...UNCACHED_ENV,
    ...env,
  });
  return createGateway({ ...config, upstreamUrls: urls, logger: silentLogger });
};
const variants = [
  { name: 'A', gateway: gatewayWith(envA), costs: [] as number[] },
  { name: "A'", gateway: gatewayWith(envA), costs: [] as number[] },
  { name: 'B', gateway: gatewayWith(envB), costs: [] as number[] },
];
const init = { method: 'POST', ...(await pageRequest()) };

/** PAGES pages through one gateway; its CPU µs per page. */
async function turn(gateway: Gateway): Promise<number> {
  const before = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < PAGES) {
        const text = await (await gateway.fetch('http://gateway/graphql', init)).text();
        if (text.includes('"errors"')) throw new Error(`broken page: ${text}`);
      }
    }),
  );
  const { user, system } = process.cpuUsage(before);
  return (user + system) / PAGES;
}

for (let round = 0; round <= ROUNDS; round++) {
  const start = round % variants.length;
  for (const variant of [...variants.slice(start), ...variants.slice(0, start)]) {
    const cost = await turn(variant.gateway);
    if (round > 0) variant.costs.push(cost); // Round 0 warms up.
  }
}

const [a, a2, b] = variants.map((variant) => ({ ...variant, median: median(variant.costs) }));
if (!a || !a2 || !b) throw new Error('unreachable');
for (const { name, costs, median: m } of [a, a2, b]) {
  console.log(
    `${name.padEnd(2)} CPU µs per page: median ${m.toFixed(0)}, min ${Math.min(...costs).toFixed(0)} ` +
      `(rounds: ${costs.map((cost) => cost.toFixed(0)).join(' ')})`,
  );
}
const noise = Math.abs(a.median / a2.median - 1);
const base = (a.median + a2.median) / 2;
const ratio = b.median / base;
console.log(
  `\nA = ${JSON.stringify(envA)}, B = ${JSON.stringify(envB)}\n` +
    `Noise floor (A against A'): ${(noise * 100).toFixed(1)}%\n` +
    `B / A: ${ratio.toFixed(3)}×${Math.abs(ratio - 1) <= noise ? ' (no change: within the noise floor)' : ''}`,
);
upstreams.kill();
process.exit(0);
