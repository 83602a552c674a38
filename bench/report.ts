// Renders one benchmark run as Markdown: the tables, the targets and a chart.
import type { PerService } from '../src/upstreams/registry.js';
import type { LoadReport } from './lib.js';
import type { Scenario } from './homepage.js';

/** One server measured in one scenario. */
export type Result = {
  name: string;
  /** Its answer to the page, pretty-printed (must equal the floor's). */
  page: string;
  /** Closed loop at fixed connections. */
  peak: LoadReport;
  /** Open loop, one per load share. */
  open: LoadReport[];
  cpuMsPerRequest: number;
  callsPerRequest: PerService<number>;
  /** Resident-set high-water mark after the peak phase (fixed connections). */
  rssAfterPeakMb: number;
  /** … and after every phase, overload included. */
  peakRssMb: number;
  /** Share of core 1 (upstreams + load generator) in use during the peak phase. */
  clientCoreBusy: number;
};
/** The floor first, then the other servers. */
export type ScenarioResult = {
  scenario: Scenario;
  rows: Result[];
  /** The floor measured again (peak only) after every other server. */
  floorAfter: Result;
};

export type RunInfo = {
  command: string;
  machine: string;
  date: string;
  seconds: number;
  connections: number;
  pinned: boolean;
  loadShares: readonly number[];
};

const TARGETS = {
  uncached: 0.6,
  cached: 1.5,
  apollo: 1.3,
  p50OverFloorMs: 1,
  p99OverFloorMs: 5,
  parallelOverSequential: 0.55,
  rssMb: 120,
};

export function renderReport(results: ScenarioResult[], run: RunInfo): string {
  const shares = run.loadShares.map((share) => `${share * 100}%`);
  return `# Benchmarks

Command: \`${run.command}\` (bench/homepage.ts). Machine: ${run.machine}. Run on ${run.date}.

**How.** Each server is its own Node process${run.pinned ? ', pinned to core 0' : ''}; the fixed-latency
upstreams (real HTTP on loopback) and the load generator (undici, keep-alive) are two
more processes${run.pinned ? ', sharing core 1' : ' (no taskset: cores not pinned)'}. Every server is compiled with tsc and run with plain
\`node\`, \`NODE_ENV=production\`, with its logs going to /dev/null. The page is
operations/web/Homepage.graphql for signed-in user \`u-42\` (5 banners, 3 with a book;
10 picks), and every server must answer it exactly as the floor does before it is measured.

- **Peak**: ${run.connections} connections, each sending its next request when the last is answered, for ${run.seconds} s after a 2 s warm-up. Only 200s without \`errors\` count.
- **Open loop** at ${shares.join(', ')} of *the floor's* peak in the same scenario, ${run.seconds} s each: requests go out on a fixed schedule, and each is timed from when it was due, so a server that falls behind shows it. A rate above a server's own peak makes its queue, and its latency, grow for the whole phase. Parallel and sequential are compared at 5%, where neither queues.
- **CPU ms/req**: the server process's user + system time over the peak phase (from /proc), per request.
- **Calls/req**: requests the upstreams received during the peak phase, per page.
- **Peak RSS**: the server's resident-set high-water mark (VmHWM) after the peak phase, and after all phases (an open loop above a server's peak piles up requests in memory).
- **Drift**: the floor runs again after the other servers. This machine's speed drifts over minutes, so a scenario whose floor changed by more than ${DRIFT_WARNING * 100}% in CPU per request is flagged.
- **Core 1**: how busy the upstreams and the load generator kept their shared core during the peak phase; near 100% the client side, not the server, is the limit.

The servers: **floor**, a hand-written node:http endpoint (bench/servers/floor.ts: jose to verify
the token, promo and recommendations with \`Promise.all\` over keep-alive \`http.request\`, one
catalog call, the same JSON out; no GraphQL, no validation, no resilience); **gateway**, \`src/main.ts\`
as shipped with its shared caches off, and **caches on** (the defaults); **Apollo Server 5**
(standalone) with the gateway's schema, resolvers, upstream clients and context factory; and
**sequential**, the gateway with Homepage.recommendations waiting for Homepage.promo.

${results.map((result) => renderScenario(result, run)).join('\n')}
## Targets

${renderTargets(results)}

## Throughput relative to the floor

\`\`\`
${renderChart(results)}
\`\`\`
`;
}

/** Above this change in the floor's CPU per request, a scenario's ratios are suspect. */
const DRIFT_WARNING = 0.15;

function renderScenario({ scenario, rows, floorAfter }: ScenarioResult, run: RunInfo): string {
  const [floor] = rows;
  if (!floor) return '';
  const head = run.loadShares.flatMap((share) => [`p50 @${share * 100}%`, `p99 @${share * 100}%`]);
  const lines = rows.map((row) => {
    const latency = row.open.flatMap((open, i) => {
      const base = floor.open[i];
      return [
        ms(open.p50, row === floor ? undefined : base?.p50),
        ms(open.p99, row === floor ? undefined : base?.p99),
      ];
    });
    const calls = row.callsPerRequest;
    const bad = row.peak.bad + row.open.reduce((sum, open) => sum + open.bad, 0);
    return `| ${row.name} | ${row.peak.rps.toFixed(0)} | ${ratio(row.peak.rps, floor.peak.rps)} | ${latency.join(' | ')} | ${row.cpuMsPerRequest.toFixed(3)} | ${ratio(row.cpuMsPerRequest, floor.cpuMsPerRequest)} | ${calls.promo.toFixed(2)} / ${calls.recommendations.toFixed(2)} / ${calls.catalog.toFixed(2)} | ${row.rssAfterPeakMb.toFixed(0)} / ${row.peakRssMb.toFixed(0)} | ${(row.clientCoreBusy * 100).toFixed(0)}% | ${bad} |`;
  });
  return `## ${scenario.name}

${renderDrift(floor, floorAfter)}

Open-loop rates: ${run.loadShares.map((share) => `${(floor.peak.rps * share).toFixed(0)} req/s`).join(' and ')}. Latencies in ms; in brackets, the difference from the floor.

| server | peak req/s | × floor | ${head.join(' | ')} | CPU ms/req | × floor | calls/req promo / recs / catalog | peak RSS MB: peak phase / all | core 1 | bad responses |
| --- | --- | --- | ${head.map(() => '---').join(' | ')} | --- | --- | --- | --- | --- | --- |
${lines.join('\n')}
`;
}

function renderTargets(results: ScenarioResult[]): string {
  const rows: string[] = [];
  const check = (what: string, where: string, value: string, met: boolean) =>
    rows.push(`| ${what} | ${where} | ${value} | ${met ? 'met' : '**missed**'} |`);
  for (const { scenario, rows: results_ } of results) {
    const find = (name: string) => results_.find((row) => row.name === name);
    const floor = results_[0];
    const gateway = find('gateway');
    const cached = find('gateway, caches on');
    const apollo = find('Apollo Server 5');
    const sequential = find('gateway, sequential');
    if (!floor) continue;
    const where = scenario.name;
    if (gateway) {
      const r = gateway.peak.rps / floor.peak.rps;
      check(
        `throughput ≥ ${TARGETS.uncached}× floor`,
        where,
        `${r.toFixed(2)}×`,
        r >= TARGETS.uncached,
      );
      const low = gateway.open[1];
      const floorLow = floor.open[1];
      if (low && floorLow) {
        const p50 = low.p50 - floorLow.p50;
        const p99 = low.p99 - floorLow.p99;
        check(
          `p50 ≤ floor + ${TARGETS.p50OverFloorMs} ms at 20%`,
          where,
          signed(p50),
          p50 <= TARGETS.p50OverFloorMs,
        );
        check(
          `p99 ≤ floor + ${TARGETS.p99OverFloorMs} ms at 20%`,
          where,
          signed(p99),
          p99 <= TARGETS.p99OverFloorMs,
        );
      }
    }
    if (cached) {
      const r = cached.peak.rps / floor.peak.rps;
      check(`caches on ≥ ${TARGETS.cached}× floor`, where, `${r.toFixed(2)}×`, r >= TARGETS.cached);
    }
    if (gateway && apollo) {
      const r = gateway.peak.rps / apollo.peak.rps;
      check(
        `throughput ≥ ${TARGETS.apollo}× Apollo Server 5`,
        where,
        `${r.toFixed(2)}×`,
        r >= TARGETS.apollo,
      );
    }
    // The claim is "half the time" with two equal upstreams: only 30/30 can show it.
    const equalLatencies = scenario.name.startsWith('30/30');
    if (equalLatencies && gateway && sequential && gateway.open[0] && sequential.open[0]) {
      // At light load, so that the ratio is of latencies, not of queues.
      const r = gateway.open[0].p50 / sequential.open[0].p50;
      check(
        `parallel / sequential p50 ≤ ${TARGETS.parallelOverSequential} (at 5%)`,
        where,
        r.toFixed(2),
        r <= TARGETS.parallelOverSequential,
      );
    }
    for (const row of [gateway, cached].filter((row) => row !== undefined)) {
      check(
        `${row.name}: peak RSS under load ≤ ${TARGETS.rssMb} MB (peak phase)`,
        where,
        `${row.rssAfterPeakMb.toFixed(0)} MB`,
        row.rssAfterPeakMb <= TARGETS.rssMb,
      );
    }
  }
  return `| target | scenario | measured | |
| --- | --- | --- | --- |
${rows.join('\n')}`;
}

function renderChart(results: ScenarioResult[]): string {
  const width = 40;
  const max = Math.max(
    ...results.flatMap(({ rows }) => rows.map((row) => row.peak.rps / (rows[0]?.peak.rps ?? 1))),
  );
  const label = Math.max(...results.flatMap(({ rows }) => rows.map((row) => row.name.length)));
  return results
    .map(({ scenario, rows }) => {
      const floor = rows[0]?.peak.rps ?? 1;
      const bars = rows.map((row) => {
        const r = row.peak.rps / floor;
        return `${row.name.padEnd(label)} ${'█'.repeat(Math.max(1, Math.round((r / max) * width)))} ${r.toFixed(2)}×`;
      });
      return `${scenario.name}\n${bars.join('\n')}`;
    })
    .join('\n\n');
}

function renderDrift(floor: Result, after: Result): string {
  const drift = after.cpuMsPerRequest / floor.cpuMsPerRequest - 1;
  const measured = `The floor, measured again after the other servers: ${after.peak.rps.toFixed(0)} req/s and ${after.cpuMsPerRequest.toFixed(3)} CPU ms/req (${drift >= 0 ? '+' : ''}${(drift * 100).toFixed(0)}% CPU per request).`;
  return Math.abs(drift) > DRIFT_WARNING
    ? `${measured} **The machine changed speed during this scenario: read its ratios with care.**`
    : measured;
}

const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${ms.toFixed(2)} ms`;
const ms = (value: number, base: number | undefined) =>
  base === undefined
    ? value.toFixed(2)
    : `${value.toFixed(2)} (${signed(value - base).replace(' ms', '')})`;
