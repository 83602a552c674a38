// CPU cost of one page, in process: npm run bench:cost
// The gateway is built with createGateway and driven through yoga's fetch (no
// HTTP server in front, no client in the process); the upstreams answer from a
// child process. Prints the gateway process's CPU µs per page, over rounds of
// pages at concurrency 16: the minimum is the figure to compare, as the median
// moves with whatever else the machine is doing. For A/B of one change at a time
// (BENCHMARKS.md, "Levers tried").
//   COST_ENV='{"METRICS":"false"}'   configuration overrides, as environment variables
import { createGateway } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { PerService } from '../src/upstreams/registry.js';
import { silentLogger } from '../src/logger.js';
import { BENCH_SECRET, firstMessage, pageRequest, spawnPinned, UNCACHED_ENV } from './lib.js';

const ROUNDS = 7;
const PAGES = 1500;
const CONCURRENCY = 16;

const upstreams = spawnPinned(1, [
  '--import',
  'tsx',
  new URL('upstreams.ts', import.meta.url).pathname,
]);
const { urls } = await firstMessage<{ urls: PerService<string> }>(upstreams);
const config = loadConfig({
  NODE_ENV: 'production',
  JWT_SECRET: BENCH_SECRET,
  ...UNCACHED_ENV,
  ...(JSON.parse(process.env.COST_ENV ?? '{}') as Record<string, string>),
});
const gateway = createGateway({ ...config, upstreamUrls: urls, logger: silentLogger });
const init = { method: 'POST', ...(await pageRequest()) };

const costs: number[] = [];
for (let round = 0; round <= ROUNDS; round++) {
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
  if (round > 0) costs.push((user + system) / PAGES); // Round 0 warms up.
}
costs.sort((a, b) => a - b);
console.log(
  `CPU µs per page: min ${costs[0]?.toFixed(0)}, median ${costs[Math.floor(ROUNDS / 2)]?.toFixed(0)} ` +
    `(rounds: ${costs.map((cost) => cost.toFixed(0)).join(' ')})`,
);
upstreams.kill();
process.exit(0);
