// The homepage benchmark: npm run bench (writes BENCHMARKS.md).
//
// Every server (bench/rows.ts) runs as its own process on core 0, all started
// at once; the fixed-latency upstreams, the load generator and Redis run on
// core 1 (taskset), so each server has the core to itself while it is measured
// and its CPU time per page can be read off /proc. This machine's speed drifts
// 2–3× over minutes, so rows are never measured one after another for long:
// every phase is a short burst, and the rows take turns, round after round
// (the starting row rotating), so that drift touches them all alike. Two
// processes of the same gateway (the A/A pair) measure what "the same" looks
// like in this run: the noise floor, under which a difference is "no change".
//
// Per scenario: closed loop at 16 and 64 connections (peak), then an open loop
// at a share of each row's own peak (light-load latency, from schedule), then,
// in one scenario, the overload phase: open loop at 2× and 3× the gateway's and
// the floor's own peak, then light load again to see how soon latency recovers.
//
//   BENCH_QUICK=1          a smoke run (short bursts, one round); never writes BENCHMARKS.md
//   BENCH_BURST_MS=2000    length of each burst
//   BENCH_ROUNDS=3         rounds of bursts per phase
//   BENCH_LIGHT_SHARE=0.5  light load, as a share of each row's own peak
//   BENCH_ONLY=apollo,mercurius  only these servers' rows (keys in bench/rows.ts), plus the floor and the A/A pair
//   BENCH_SCENARIO=20/30   only the scenarios whose name starts with this (30/30 only this way)
//   BENCH_OVERLOAD=0       skip the overload phase
//   BENCH_PROFILE=1        servers write V8 CPU profiles to bench/results/ (npm run bench:profile)
//   BENCH_NODE_OPTIONS=…   NODE_OPTIONS for every server
//   --only admission       the admission matrix instead (bench/admission.ts, its own options)
//
// Exits non-zero only when the run is broken: a server does not start or dies, or
// answers the page differently from the floor. Slow is a result, not a failure.
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { request as undiciRequest } from 'undici';
import { loadConfig } from '../src/config.js';
import { perService, SERVICES, type PerService } from '../src/upstreams/services.js';
import {
  compileBench,
  ask,
  BENCH_SECRET,
  firstMessage,
  median,
  pageRequest,
  percentile,
  PINNING,
  runPhase,
  spawnPinned,
  type LoadPhase,
  type LoadReport,
  type OverloadPlan,
  type OverloadReport,
  type PageRequest,
  type ToUpstreams,
  type UpstreamStats,
  type Viewer,
} from './lib.js';
import { startRedis, type BenchRedis } from './redis.js';
import type { OverloadResult, RowResult, ScenarioResult } from './report.js';
import { CANNED_SCRIPT, REQUIRED_ROWS, ROW, ROWS, SERVERS, type RowSpec } from './rows.js';
import {
  BrokenRun,
  firstPage,
  processCpuMs,
  startServer,
  withRssPeak,
  type ServerProcess,
} from './server-process.js';
import { RESULTS, WHOLE_RUN, writeReport } from './write-report.js';

// `npm run bench -- --only admission`: the admission matrix instead (bench/admission.ts).
const only = process.argv.indexOf('--only');
if (only !== -1 && process.argv[only + 1] === 'admission') await import('./admission.js');

/** Per connection or per response: the canned server writes its own. */
const DROPPED_HEADERS = new Set([
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
]);
const QUICK = process.env.BENCH_QUICK === '1';
const BURST_MS = Number(process.env.BENCH_BURST_MS ?? (QUICK ? 400 : 2000));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const WARM_MS = QUICK ? 300 : 1000;
const CONNECTIONS = [16, 64] as const;
const LIGHT_SHARE = Number(process.env.BENCH_LIGHT_SHARE ?? 0.5);
const OVERLOAD = process.env.BENCH_OVERLOAD !== '0';
const OVERLOAD_FACTORS = [2, 3] as const;
const SPIKE_MS = QUICK ? 1000 : 4000;
const RECOVERY_MS = QUICK ? 1000 : 3000;
/** After this long an overload request counts as failed (bounds the phase's length). */
const OVERLOAD_TIMEOUT_MS = 10_000;
/** The gateway's default request deadline: answers later than this are worthless. */
const REQUEST_DEADLINE_MS = loadConfig({ JWT_SECRET: BENCH_SECRET }).requestDeadlineMs;
const PROFILE = process.env.BENCH_PROFILE === '1';
const ONLY = process.env.BENCH_ONLY?.split(',');

export type Scenario = { name: string; latencyMs: PerService<number>; overload: boolean };
const ALL_SCENARIOS: (Scenario & { byDefault: boolean })[] = [
  {
    name: '0 ms upstreams (CPU cost)',
    latencyMs: { promo: 0, recommendations: 0, catalog: 0 },
    overload: false,
    byDefault: true,
  },
  {
    name: '20/30/10 ms promo/recommendations/catalog',
    latencyMs: { promo: 20, recommendations: 30, catalog: 10 },
    overload: OVERLOAD,
    byDefault: true,
  },
  {
    name: '30/30 ms promo/recommendations (catalog 0 ms)',
    latencyMs: { promo: 30, recommendations: 30, catalog: 0 },
    overload: false,
    byDefault: false,
  },
];
const SCENARIOS = ALL_SCENARIOS.filter((scenario) =>
  process.env.BENCH_SCENARIO
    ? scenario.name.startsWith(process.env.BENCH_SCENARIO)
    : scenario.byDefault,
);
const rows = ROWS.filter(
  (row) => !ONLY || ONLY.includes(row.server) || REQUIRED_ROWS.includes(row.name),
);
// The canned answers serve what gateway-cached's page cache sent: that server runs too.
const needed = new Set(rows.map((row) => row.server));
if (SERVERS.some((server) => needed.has(server.key) && server.script === CANNED_SCRIPT)) {
  needed.add('gateway-cached');
}
const servers = SERVERS.filter((server) => needed.has(server.key));

// Bursts, plus about a quarter of a second around each (settling, IPC, stragglers).
const expectedMinutes =
  (SCENARIOS.length * rows.length * (WARM_MS + ROUNDS * 3 * (BURST_MS + 250)) +
    (SCENARIOS.some((scenario) => scenario.overload)
      ? OVERLOAD_FACTORS.length * 2 * (1000 + SPIKE_MS + RECOVERY_MS + 2000)
      : 0) +
    40_000) /
  60_000;
console.log(
  `${rows.length} rows, ${SCENARIOS.length} scenarios, bursts of ${BURST_MS} ms, ${ROUNDS} rounds: about ${expectedMinutes.toFixed(0)} minutes`,
);

mkdirSync(RESULTS, { recursive: true });

console.log('Compiling (tsc -p bench/tsconfig.json)…');
const build = compileBench();

const upstreams = spawnPinned(1, [new URL('bench/upstreams.js', build).pathname]);
const loadgen = spawnPinned(1, [new URL('bench/loadgen.js', build).pathname]);
let redis: BenchRedis | undefined;
const running = new Map<string, ServerProcess>();
const stopEverything = async () => {
  await Promise.all([...running.values()].map((server) => server.stop()));
  await redis?.stop();
  upstreams.kill();
  loadgen.kill();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopEverything().then(() => process.exit(130)));
}

let exitCode = 0;
const scenarioResults: ScenarioResult[] = [];
const startedAt = Date.now();
try {
  const { urls } = await firstMessage<{ urls: PerService<string> }>(upstreams);
  await firstMessage(loadgen);
  if (servers.some((server) => server.redis)) redis = await startRedis(1);
  const requests: Record<Viewer, PageRequest> = {
    'signed-in': await pageRequest('signed-in'),
    anonymous: await pageRequest('anonymous'),
  };
  console.log(`Starting ${servers.length} servers on core 0…`);
  await Promise.all(
    servers.map(async (spec) => {
      running.set(
        spec.key,
        await startServer(spec, {
          build,
          core: 0,
          upstreamUrls: urls,
          redisUrl: redis?.url,
          nodeFlags: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${RESULTS.pathname}`] : [],
        }),
      );
    }),
  );
  const serverOf = (row: RowSpec) => running.get(row.server) as ServerProcess;

  for (const scenario of SCENARIOS) {
    console.log(`\n## ${scenario.name}`);
    await ask(upstreams, { type: 'latency', latencyMs: scenario.latencyMs } satisfies ToUpstreams);
    scenarioResults.push(await measureScenario(scenario));
  }

  /** The canned answers' page: what a page-cache hit of `gateway-cached` sends, bytes and headers. */
  async function handCannedPage() {
    const canned = servers
      .filter((server) => server.script === CANNED_SCRIPT)
      .flatMap((server) => running.get(server.key) ?? []);
    const cached = running.get('gateway-cached');
    if (canned.length === 0 || !cached) return;
    await firstPage(cached, requests.anonymous); // Started, and the page stored.
    // undici's request, as the load generator sends it: no Accept-Encoding of
    // fetch's own, and the bytes as they came.
    for (let i = 0; i < 50; i++) {
      const { statusCode, headers, body } = await undiciRequest(`${cached.origin}/graphql`, {
        method: 'POST',
        ...requests.anonymous,
      });
      const text = await body.text();
      if (statusCode === 200 && String(headers['server-timing']).includes('cache;desc=hit')) {
        const kept: Record<string, string> = {};
        for (const [name, value] of Object.entries(headers)) {
          if (DROPPED_HEADERS.has(name) || value === undefined) continue;
          kept[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        for (const each of canned) each.child.send({ body: text, headers: kept });
        return;
      }
      await sleep(50);
    }
    throw new BrokenRun('gateway-cached served no page-cache hit to can');
  }

  async function measureScenario(scenario: Scenario): Promise<ScenarioResult> {
    // Every row's page must be the floor's, for the same viewer: the same data and
    // errors (none). Extensions may differ: a gateway with its caches on says when
    // it served promo stale while refreshing it, which changes no byte of the data.
    await handCannedPage();
    const pages = new Map<RowSpec, string>();
    for (const row of rows) {
      const page = pageContent(await firstPage(serverOf(row), requests[row.viewer]));
      const floorRow = rows.find(
        (other) => other.server === 'floor' && other.viewer === row.viewer,
      );
      const floorPage = floorRow && pages.get(floorRow);
      if (floorPage !== undefined && page !== floorPage) {
        throw new BrokenRun(
          `${row.name} answers differently from the floor:\n${page}\n---\n${floorPage}`,
        );
      }
      pages.set(row, page);
    }
    const acc = new Map(rows.map((row) => [row, newAccumulator()]));
    const get = (row: RowSpec) => acc.get(row) as Accumulator;

    // Warm-up: JIT, connection pools, caches.
    for (const row of rows)
      await burst(row, { type: 'closed', connections: 64, durationMs: WARM_MS });

    for (let round = 0; round < ROUNDS; round++) {
      for (const connections of CONNECTIONS) {
        for (const row of rotate(rows, round)) {
          const server = serverOf(row);
          const before = await ask<UpstreamStats>(upstreams, {
            type: 'reset',
          } satisfies ToUpstreams);
          const cpuBefore = server.cpuMs();
          const redisBefore =
            server.spec.redis && redis
              ? { cpuMs: processCpuMs(redis.process.pid ?? 0), commands: await redis.commands() }
              : undefined;
          const { result: report, rssPeakMb } = await withRssPeak(server, () =>
            burst(row, { type: 'closed', connections, durationMs: BURST_MS }),
          );
          const cpuMs = server.cpuMs() - cpuBefore;
          const after = await ask<UpstreamStats>(upstreams, {
            type: 'stats',
          } satisfies ToUpstreams);
          const a = get(row);
          a.peakRounds[connections].push(report.rps);
          a.cpuMs += cpuMs;
          a.pages += report.good;
          a.bad += report.bad;
          for (const service of SERVICES)
            a.calls[service] += after.calls[service] - before.calls[service];
          if (redisBefore && redis) {
            a.redisCpuMs += processCpuMs(redis.process.pid ?? 0) - redisBefore.cpuMs;
            // Less the one INFO that asks.
            a.redisCommands += (await redis.commands()) - redisBefore.commands - 1;
          }
          if (connections === 64) {
            a.rss64Mb = Math.max(a.rss64Mb, rssPeakMb);
            a.clientCoreBusy.push((after.cpuMs - before.cpuMs + report.cpuMs) / report.elapsedMs);
          }
          console.log(
            `  ${row.name} @${connections}: ${report.rps.toFixed(0)} pages/s, ` +
              `${(cpuMs / Math.max(1, report.good)).toFixed(3)} CPU ms/page, RSS ≤ ${rssPeakMb.toFixed(0)} MB` +
              (report.bad ? `, ${report.bad} bad` : ''),
          );
        }
      }
    }
    const peakOf = (row: RowSpec) =>
      Math.max(...CONNECTIONS.map((connections) => median(get(row).peakRounds[connections])));

    for (let round = 0; round < ROUNDS; round++) {
      for (const row of rotate(rows, round)) {
        const rate = peakOf(row) * LIGHT_SHARE;
        const report = await burst(row, { type: 'open', rate, durationMs: BURST_MS });
        const a = get(row);
        a.latencies.push(...report.latencies);
        a.lightBad += report.bad;
        a.maxLagMs = Math.max(a.maxLagMs, report.maxLagMs);
        console.log(
          `  ${row.name} open loop at ${rate.toFixed(0)}/s: p50 ${report.p50.toFixed(2)} ms, p99 ${report.p99.toFixed(2)} ms` +
            (report.bad ? `, ${report.bad} bad` : ''),
        );
      }
    }

    const rowResults = rows.map((row): RowResult => {
      const a = get(row);
      const latencies = a.latencies.sort((x, y) => x - y);
      return {
        name: row.name,
        about: row.about,
        viewer: row.viewer,
        peak: { 16: median(a.peakRounds[16]), 64: median(a.peakRounds[64]) },
        peakRounds: a.peakRounds,
        cpuMsPerPage: a.cpuMs / a.pages,
        callsPerPage: perService<PerService<number>>((service) => a.calls[service] / a.pages),
        rss64Mb: a.rss64Mb,
        clientCoreBusy: median(a.clientCoreBusy),
        lightRate: peakOf(row) * LIGHT_SHARE,
        light: {
          p50: percentile(latencies, 0.5),
          p99: percentile(latencies, 0.99),
          pages: latencies.length,
          maxLagMs: a.maxLagMs,
        },
        bad: a.bad + a.lightBad,
        ...(serverOf(row).spec.redis && {
          redis: {
            cpuMsPerPage: a.redisCpuMs / a.pages,
            commandsPerPage: a.redisCommands / a.pages,
          },
        }),
      };
    });
    for (const row of rows) {
      if (serverOf(row).exited()) throw new BrokenRun(`${row.name}'s server exited during the run`);
    }
    return {
      scenario,
      rows: rowResults,
      overload: scenario.overload ? await overloadPhase(rowResults) : [],
    };
  }

  /**
   * Spikes at 2× and 3× the gateway's and the floor's own peak, interleaved; the
   * gateway's lever rows get the gateway's spike (same rate), so they compare.
   */
  async function overloadPhase(rowResults: RowResult[]): Promise<OverloadResult[]> {
    const out: OverloadResult[] = [];
    const spikes: Array<[row: string, sizedBy: string]> = [
      [ROW.gateway, ROW.gateway],
      [ROW.floor, ROW.floor],
      [ROW.admission100, ROW.gateway],
      [ROW.admission64, ROW.gateway],
    ];
    for (const factor of OVERLOAD_FACTORS) {
      for (const [name, sizedBy] of spikes) {
        const row = rows.find((candidate) => candidate.name === name);
        const result = rowResults.find((candidate) => candidate.name === sizedBy);
        if (!row || !result) continue;
        const closedPeak = Math.max(result.peak[16], result.peak[64]);
        const plan: OverloadPlan = {
          spikeRate: closedPeak * factor,
          spikeMs: SPIKE_MS,
          recoveryRate: result.lightRate,
          recoveryMs: RECOVERY_MS,
          // "Normal": within twice the row's own light-load p99 (at least 5 ms more).
          normalMs: Math.max(2 * result.light.p99, result.light.p99 + 5),
          timeoutMs: OVERLOAD_TIMEOUT_MS,
          deadlineMs: REQUEST_DEADLINE_MS,
          // As a load balancer keeps them: see bench/admission.ts.
          preconnect: 512,
        };
        await sleep(1000); // Let the previous spike's server-side work finish.
        const { result: report, rssPeakMb } = await withRssPeak(serverOf(row), () =>
          burst<OverloadReport>(row, { type: 'overload', ...plan }),
        );
        console.log(
          `  overload ${name} at ${factor}× (${plan.spikeRate.toFixed(0)}/s): goodput ${report.goodput.toFixed(0)}/s, ` +
            `shed ${report.shed}/${report.due}, other ${report.other}, p99 all ${report.allP99.toFixed(0)} ms, ` +
            `RSS ≤ ${rssPeakMb.toFixed(0)} MB, back to normal ${report.recoveryMs === null ? 'not within the window' : `${report.recoveryMs.toFixed(0)} ms`}`,
        );
        out.push({ name, factor, closedPeak, plan, report, rssPeakMb });
      }
    }
    return out;
  }

  function burst<T = LoadReport>(row: RowSpec, phase: LoadPhase): Promise<T> {
    return runPhase<T>(loadgen, serverOf(row).origin, requests[row.viewer], phase);
  }
} catch (error) {
  if (!(error instanceof BrokenRun)) throw error;
  console.error(`\nBroken run: ${error.message}`);
  exitCode = 1;
} finally {
  await stopEverything();
}

if (exitCode === 0) {
  const { out, report } = writeReport({
    info: {
      command: command(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`,
      date: new Date().toISOString().slice(0, 10),
      minutes: (Date.now() - startedAt) / 60_000,
      burstMs: BURST_MS,
      rounds: ROUNDS,
      warmMs: WARM_MS,
      connections: CONNECTIONS,
      lightShare: LIGHT_SHARE,
      pinned: PINNING,
      overloadFactors: OVERLOAD_FACTORS,
      spikeMs: SPIKE_MS,
      recoveryMs: RECOVERY_MS,
      requestDeadlineMs: REQUEST_DEADLINE_MS,
    },
    scenarios: scenarioResults,
  });
  console.log(`\n${report}\nWritten to ${out.pathname}`);
}
process.exit(exitCode);

type Accumulator = {
  peakRounds: Record<(typeof CONNECTIONS)[number], number[]>;
  cpuMs: number;
  /** Complete pages: sheds and errors cost CPU too, but a page is what the CPU is for. */
  pages: number;
  bad: number;
  calls: PerService<number>;
  rss64Mb: number;
  clientCoreBusy: number[];
  latencies: number[];
  lightBad: number;
  maxLagMs: number;
  redisCpuMs: number;
  redisCommands: number;
};

function newAccumulator(): Accumulator {
  return {
    peakRounds: { 16: [], 64: [] },
    cpuMs: 0,
    pages: 0,
    bad: 0,
    calls: perService<PerService<number>>(() => 0),
    rss64Mb: 0,
    clientCoreBusy: [],
    latencies: [],
    lightBad: 0,
    maxLagMs: 0,
    redisCpuMs: 0,
    redisCommands: 0,
  };
}

/** The rows starting at a different one each round, so no row always follows the same neighbour. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const start = by % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

/** The command line that reproduces this run. */
function command(): string {
  const knobs = Object.entries(process.env)
    .filter(([name]) => name.startsWith('BENCH_'))
    .map(([name, value]) => `${name}=${value}`);
  return [...knobs, WHOLE_RUN].join(' ');
}

/** A page's data and errors, as compared across rows (not its extensions). */
function pageContent(page: string): string {
  const { data, errors } = JSON.parse(page) as { data?: unknown; errors?: unknown };
  return JSON.stringify({ data, errors }, null, 1);
}
