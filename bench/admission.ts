// The admission benchmark (issue 17): does adaptive admission need no tuning?
//   npm run bench -- --only admission [--duration-ms 3000] [--latencies 0,50,200]
//     [--clients 16,64,256] [--variants defaults,off,cap-64] [--factors 2,3]
//     [--warm-up-ms 3000] [--baseline ../before/.bench-build/src/main.js]
//
// Variants, all started at once on core 0 and measured in turns (the first one
// rotating per cell, so the machine's drift touches them alike), the signed-in
// page with every cache off (each page goes upstream):
//   defaults, defaults-copy  the shipped defaults, twice: the A/A pair whose
//                            difference is this run's noise floor
//   off                      ADMISSION=off: nothing is ever shed
//   cap-N                    MAX_IN_FLIGHT=N (16, 32, 64, 128, 256): a fixed cap,
//                            on top of adaptive admission (ADMISSION=off turns the
//                            cap off too): what the best fixed number would add
// Matrix: upstream latency (every service alike) × closed loops of N clients,
// then, per latency, open loops at 2× and 3× the peak of `off` at that latency,
// each request timed from when it was due. Prints one markdown table: pages/s
// (complete pages, no errors), % shed (503 OVERLOADED, read from the server's
// own counter), p99 (closed loops: of every answer; open loops: of every answer
// from when it was due), and the server's peak RSS.
//
// Targets (issue 17): where `off` meets the deadline in a closed loop, the
// defaults shed ≤ 1% and serve ≥ 0.95× its pages; at 2× and 3×, p99 ≤ 1.5 s,
// goodput ≥ 90% of the closed-loop peak, RSS ≤ 200 MB.
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config.js';
import { perService, type PerService } from '../src/upstreams/services.js';
import {
  ask,
  BENCH_SECRET,
  compileBench,
  firstMessage,
  pageRequest,
  runPhase,
  spawnPinned,
  UNCACHED_ENV,
  type LoadPhase,
  type LoadReport,
  type OverloadReport,
  type ToUpstreams,
} from './lib.js';
import type { ServerSpec } from './rows.js';
import {
  BrokenRun,
  firstPage,
  startServer,
  withRssPeak,
  type ServerProcess,
} from './server-process.js';

const option = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
};
const numbers = (text: string) => text.split(',').map(Number);

const DURATION_MS = Number(option('duration-ms', '3000'));
const LATENCIES = numbers(option('latencies', '0,50,200'));
const CLIENTS = numbers(option('clients', '16,64,256'));
const FACTORS = numbers(option('factors', '2,3'));
const CAPS = [16, 32, 64, 128, 256];
const WARM_UP_MS = Number(option('warm-up-ms', '3000'));
const ALL_VARIANTS: ServerSpec[] = [
  { key: 'defaults', script: 'src/main.js', env: UNCACHED_ENV },
  { key: 'defaults-copy', script: 'src/main.js', env: UNCACHED_ENV },
  { key: 'off', script: 'src/main.js', env: { ...UNCACHED_ENV, ADMISSION: 'off' } },
  ...CAPS.map((cap) => ({
    key: `cap-${cap}`,
    script: 'src/main.js',
    env: { ...UNCACHED_ENV, MAX_IN_FLIGHT: String(cap) },
  })),
];
// --baseline <compiled main.js of another checkout>: the same defaults from that
// build, as variant `baseline`, for a before/after in one run. Built there by
// `npm run bench` (compileBench), which also copies the schema and operations
// the compiled gateway reads: `tsc` alone leaves a build that cannot start.
const baseline = option('baseline', '');
if (baseline) {
  ALL_VARIANTS.push({
    key: 'baseline',
    script: pathToFileURL(resolve(baseline)).href,
    env: UNCACHED_ENV,
  });
}
const chosen = option('variants', '').split(',').filter(Boolean);
const VARIANTS = chosen.length
  ? ALL_VARIANTS.filter((variant) => chosen.includes(variant.key))
  : ALL_VARIANTS;
/** How long each look at the gateways' CPU lasts while waiting for them to go idle (ms). */
const SETTLE_SAMPLE_MS = 500;
/** The gateway's default request deadline: later answers are worthless. */
const DEADLINE_MS = loadConfig({ JWT_SECRET: BENCH_SECRET }).requestDeadlineMs;

type Row = {
  latencyMs: number;
  load: string;
  variant: string;
  pagesPerSecond: number;
  shedShare: number;
  p99: number;
  /** Open loops: p99 of complete pages, and of sheds, from when each was due. */
  completeP99?: number;
  shedP99?: number;
  /** Open loops: how late the generator sent its latest request. */
  lagMs?: number;
  rssMb: number;
};

const cells = LATENCIES.length * (CLIENTS.length + FACTORS.length) * VARIANTS.length;
console.log(
  `${VARIANTS.length} variants, ${cells} cells of ${DURATION_MS} ms: about ${Math.ceil((cells * (DURATION_MS + 1500)) / 60_000 + 1)} minutes`,
);

const build = compileBench(); // as bench/homepage.ts does

const upstreams = spawnPinned(1, [new URL('bench/upstreams.js', build).pathname]);
const loadgen = spawnPinned(1, [new URL('bench/loadgen.js', build).pathname]);
const running = new Map<string, ServerProcess>();
const stopEverything = async () => {
  await Promise.all([...running.values()].map((server) => server.stop()));
  upstreams.kill();
  loadgen.kill();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopEverything().then(() => process.exit(130)));
}

const rows: Row[] = [];
let exitCode = 0;
try {
  const { urls } = await firstMessage<{ urls: PerService<string> }>(upstreams);
  await firstMessage(loadgen);
  const request = await pageRequest('signed-in');
  await Promise.all(
    VARIANTS.map(async (spec) => {
      running.set(spec.key, await startServer(spec, { build, core: 0, upstreamUrls: urls }));
    }),
  );
  const serverOf = (key: string) => running.get(key) as ServerProcess;
  for (const spec of VARIANTS) await firstPage(serverOf(spec.key), request);

  let turn = 0;
  for (const latencyMs of LATENCIES) {
    await ask(upstreams, {
      type: 'latency',
      latencyMs: perService<PerService<number>>(() => latencyMs),
    } satisfies ToUpstreams);
    console.log(`\n## ${latencyMs} ms upstreams`);
    // Warm-up: JIT (a cold gateway serves half its peak for seconds), connection pools.
    for (const spec of VARIANTS) {
      await burst(spec.key, { type: 'closed', connections: 16, durationMs: WARM_UP_MS });
    }
    const peaks = new Map<string, number>();
    for (const clients of CLIENTS) {
      for (const spec of rotate(VARIANTS, turn++)) {
        await settle();
        const { report, shed, rssMb } = await measure<LoadReport>(spec.key, {
          type: 'closed',
          connections: clients,
          durationMs: DURATION_MS,
        });
        const answers = report.good + report.bad;
        peaks.set(spec.key, Math.max(peaks.get(spec.key) ?? 0, report.rps));
        record({
          latencyMs,
          load: `closed ${clients}`,
          variant: spec.key,
          pagesPerSecond: report.rps,
          shedShare: answers ? shed / answers : 0,
          p99: report.p99,
          rssMb,
        });
      }
    }
    // Open loops sized by the peak of `off` (of the defaults without it).
    const peak = peaks.get('off') ?? peaks.get('defaults') ?? Math.max(...peaks.values());
    for (const factor of FACTORS) {
      for (const spec of rotate(VARIANTS, turn++)) {
        await settle(); // The previous spike's server-side work, on the same core.
        const { report, shed, rssMb } = await measure<OverloadReport>(spec.key, {
          type: 'overload',
          spikeRate: peak * factor,
          spikeMs: DURATION_MS,
          recoveryRate: peak / 2,
          recoveryMs: 500,
          normalMs: DEADLINE_MS,
          timeoutMs: 10_000,
          deadlineMs: DEADLINE_MS,
          // A load balancer's warm pool: what a spike brings waits at admission, not
          // in the kernel's accept queue (BENCHMARKS.md, "one connection per turn").
          preconnect: 512,
        });
        record({
          latencyMs,
          load: `open ${factor}× (${peak.toFixed(0)}/s)`,
          variant: spec.key,
          pagesPerSecond: report.goodput,
          shedShare: report.due ? Math.min(1, shed / report.due) : 0,
          p99: report.allP99,
          completeP99: report.completeP99,
          shedP99: report.shedP99,
          lagMs: report.maxLagMs,
          rssMb,
        });
      }
    }
    for (const spec of VARIANTS) {
      if (serverOf(spec.key).exited()) throw new BrokenRun(`${spec.key} exited during the run`);
    }
  }

  /**
   * Waits until every gateway is idle: all of them share core 0, and one
   * that is still working off a spike's queue (`off` keeps thousands of
   * requests after its cell's clients gave up) takes that core from the next
   * cell. A fixed second was not enough: the variant measured after `off`, or
   * after a collapsed one, collapsed in turn.
   */
  async function settle() {
    const servers = [...running.values()];
    const startedAt = performance.now();
    for (;;) {
      const before = servers.map((server) => server.cpuMs());
      await sleep(SETTLE_SAMPLE_MS);
      const busyMs = servers.reduce((sum, server, i) => sum + server.cpuMs() - (before[i] ?? 0), 0);
      if (busyMs <= SETTLE_SAMPLE_MS / 10) break;
      if (performance.now() - startedAt > 60_000) {
        throw new BrokenRun(
          `the gateways never went idle (${busyMs} ms of CPU in ${SETTLE_SAMPLE_MS} ms)`,
        );
      }
    }
    const waitedMs = performance.now() - startedAt;
    if (waitedMs > 2 * SETTLE_SAMPLE_MS) {
      console.log(`  (waited ${(waitedMs / 1000).toFixed(1)} s for the gateways to go idle)`);
    }
  }

  async function measure<T>(key: string, phase: LoadPhase) {
    const server = serverOf(key);
    const shedBefore = await shedCount(server);
    const { result: report, rssPeakMb } = await withRssPeak(server, () => burst<T>(key, phase));
    return { report, shed: (await shedCount(server)) - shedBefore, rssMb: rssPeakMb };
  }

  function burst<T>(key: string, phase: LoadPhase) {
    return runPhase<T>(loadgen, serverOf(key).origin, request, phase);
  }
} catch (error) {
  if (!(error instanceof BrokenRun)) throw error;
  console.error(`\nBroken run: ${error.message}`);
  exitCode = 1;
} finally {
  await stopEverything();
}

if (rows.length > 0) {
  console.log(`\nSigned-in page, caches off, ${DURATION_MS} ms per cell; deadline ${DEADLINE_MS} ms.
Open loops: pages/s is goodput (complete within the deadline), p99 of every answer from when it was due.
A/A noise floor: compare \`defaults\` with \`defaults-copy\` in each cell.

| upstreams | load | variant | pages/s | % shed | p99 ms | complete / shed p99 ms | generator lag ms | RSS MB |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows
  .map(
    (row) =>
      `| ${row.latencyMs} ms | ${row.load} | ${row.variant} | ${row.pagesPerSecond.toFixed(0)} | ${(row.shedShare * 100).toFixed(1)} | ${row.p99.toFixed(0)} | ${openOnly(row)} | ${row.rssMb.toFixed(0)} |`,
  )
  .join('\n')}`);
}
process.exit(exitCode);

// Private helpers.

function record(row: Row) {
  rows.push(row);
  console.log(
    `  ${row.load} ${row.variant}: ${row.pagesPerSecond.toFixed(0)} pages/s, ${(row.shedShare * 100).toFixed(1)}% shed, p99 ${row.p99.toFixed(0)} ms (${openOnly(row)}), RSS ≤ ${row.rssMb.toFixed(0)} MB`,
  );
}

/** The open-loop columns: complete and shed p99, then the generator's lag ('–' for closed loops). */
function openOnly(row: Row): string {
  if (row.lagMs === undefined) return '– | –';
  const ms = (value: number | null | undefined) =>
    value === undefined || value === null || Number.isNaN(value) ? '–' : value.toFixed(0);
  return `${ms(row.completeP99)} / ${ms(row.shedP99)} | ${ms(row.lagMs)}`;
}

/** Requests the server has shed so far, every reason together (its own counter). */
async function shedCount(server: ServerProcess): Promise<number> {
  const text = await (await fetch(`${server.metricsOrigin}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^bff_requests_shed_total\{[^}]*\} (\S+)$/gm)) {
    total += Number(match[1]);
  }
  return total;
}

/** The variants starting at a different one each cell. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const start = by % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}
