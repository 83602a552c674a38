// The homepage benchmark: npm run bench (writes BENCHMARKS.md).
//
// Every server runs as its own process on core 0; the fixed-latency upstreams and
// the load generator run as two more processes on core 1 (taskset), so each
// server has one core to itself and its CPU time per request can be read off
// /proc. Each scenario measures, side by side in one run: the hand-written floor,
// the gateway (shared caches off, then on), Apollo Server 5 with the gateway's
// resolvers, and the gateway with a sequential homepage.
//
//   BENCH_SECONDS=8        length of each measured phase
//   BENCH_CONNECTIONS=64   concurrent connections of the peak-throughput phase
//   BENCH_ONLY=gateway     run only the floor and these servers (comma-separated names)
//   BENCH_SCENARIO=20/30   run only the scenarios whose name starts with this
//   BENCH_PROFILE=1        servers write V8 CPU profiles (--cpu-prof) to bench/results/
//                          and skip the open-loop phases (summary: npm run bench:profile)
//
// Exits non-zero only when the run is broken: a server does not start or dies, or
// answers the page differently from the floor. Slow is a result, not a failure.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  perService,
  SERVICES,
  type PerService,
  type ServiceName,
} from '../src/upstreams/registry.js';
import {
  ask,
  BENCH_SECRET,
  firstMessage,
  listen,
  pageRequest,
  PINNING,
  spawnPinned,
  type LoadReport,
  type ToLoadgen,
  type ToUpstreams,
  type UpstreamStats,
  UNCACHED_ENV,
} from './lib.js';
import { renderReport, type Result, type ScenarioResult } from './report.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ONLY = process.env.BENCH_ONLY;
const PROFILE = process.env.BENCH_PROFILE === '1';
// 5%: light load, where parallel and sequential are compared (neither queues);
// 20% and 70%: the latency targets, as shares of the floor's peak.
const LOAD_SHARES = [0.05, 0.2, 0.7] as const;

export type Scenario = { name: string; latencyMs: PerService<number> };
const SCENARIOS: Scenario[] = [
  { name: '0 ms upstreams (CPU cost)', latencyMs: { promo: 0, recommendations: 0, catalog: 0 } },
  {
    name: '20/30/10 ms promo/recommendations/catalog',
    latencyMs: { promo: 20, recommendations: 30, catalog: 10 },
  },
  {
    name: '30/30 ms promo/recommendations (catalog 0 ms)',
    latencyMs: { promo: 30, recommendations: 30, catalog: 0 },
  },
].filter((scenario) => scenario.name.startsWith(process.env.BENCH_SCENARIO ?? ''));

type Variant = { name: string; script: string; env?: Record<string, string> };
const FLOOR: Variant = { name: 'floor (node:http)', script: 'bench/servers/floor.js' };
const VARIANTS: Variant[] = [
  { name: 'gateway', script: 'src/main.js', env: UNCACHED_ENV },
  { name: 'gateway, caches on', script: 'src/main.js' },
  { name: 'Apollo Server 5', script: 'bench/servers/apollo.js', env: UNCACHED_ENV },
  { name: 'gateway, sequential', script: 'bench/servers/sequential.js', env: UNCACHED_ENV },
].filter((variant) => !ONLY || ONLY.split(',').includes(variant.name));

const root = new URL('..', import.meta.url);
const build = new URL('.bench-build/', root);

class BrokenRun extends Error {
  override name = 'BrokenRun';
}

// Compiled once, run with plain node: no loader in the measured processes.
console.log('Compiling (tsc -p bench/tsconfig.json)…');
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'bench/tsconfig.json'], {
  cwd: root,
  stdio: 'inherit',
});
// The compiled gateway reads these relative to its own files, as dist/ does.
cpSync(new URL('schema.graphql', root), new URL('schema.graphql', build));
cpSync(new URL('operations', root), new URL('operations', build), { recursive: true });

const upstreams = spawnPinned(1, [new URL('bench/upstreams.js', build).pathname]);
const { urls } = await firstMessage<{ urls: PerService<string> }>(upstreams);
const loadgen = spawnPinned(1, [new URL('bench/loadgen.js', build).pathname]);
await firstMessage(loadgen);
const page = await pageRequest();

const results: ScenarioResult[] = [];
let exitCode = 0;
try {
  for (const scenario of SCENARIOS) {
    console.log(`\n## ${scenario.name}`);
    await ask(upstreams, { type: 'latency', latencyMs: scenario.latencyMs } satisfies ToUpstreams);
    const floor = await measure(FLOOR, undefined);
    const rows = [floor];
    for (const variant of VARIANTS) rows.push(await measure(variant, floor));
    // The floor once more, peak only: how far the machine's speed drifted meanwhile.
    const floorAfter = await measure(FLOOR, floor, { openLoop: false });
    results.push({ scenario, rows, floorAfter });
  }
} catch (error) {
  if (!(error instanceof BrokenRun)) throw error;
  console.error(`\nBroken run: ${error.message}`);
  exitCode = 1;
} finally {
  upstreams.kill();
  loadgen.kill();
}

if (exitCode === 0) {
  const report = renderReport(results, {
    command: `npm run bench${SECONDS !== 8 ? ` (BENCH_SECONDS=${SECONDS})` : ''}`,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`,
    date: new Date().toISOString().slice(0, 10),
    seconds: SECONDS,
    connections: CONNECTIONS,
    pinned: PINNING,
    loadShares: LOAD_SHARES,
  });
  const log = readFileSync(new URL('bench/levers.md', root), 'utf8');
  writeFileSync(new URL('BENCHMARKS.md', root), `${report}\n${log}`);
  console.log(`\n${report}`);
}
process.exit(exitCode);

/** Starts one server, checks its page, and runs the three load phases against it. */
async function measure(
  variant: Variant,
  floor: Result | undefined,
  { openLoop = true } = {},
): Promise<Result> {
  const port = await freePort();
  const profile = PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${new URL('bench/results', root).pathname}`]
    : [];
  const server = spawnPinned(0, [...profile, new URL(variant.script, build).pathname], {
    quiet: true,
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      JWT_SECRET: BENCH_SECRET,
      ...Object.fromEntries(
        SERVICES.map((service) => [`${service.toUpperCase()}_URL`, urls[service]]),
      ),
      ...variant.env,
      ...(process.env.BENCH_NODE_OPTIONS && { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS }),
    },
  });
  let exited = false;
  server.once('exit', () => (exited = true));
  try {
    const origin = `http://127.0.0.1:${port}`;
    const data = await firstPage(origin, server);
    if (floor && data !== floor.page) {
      throw new BrokenRun(
        `${variant.name} answers differently from the floor:\n${data}\n---\n${floor.page}`,
      );
    }
    await ask(loadgen, {
      type: 'target',
      origin,
      path: '/graphql',
      ...page,
    } satisfies ToLoadgen);
    // Warm-up: JIT, connection pools, caches.
    await ask(loadgen, { type: 'closed', connections: CONNECTIONS, durationMs: 2000 });

    const before = await ask<UpstreamStats>(upstreams, { type: 'reset' } satisfies ToUpstreams);
    const cpuBefore = processCpuMs(server);
    const peak = await ask<LoadReport>(loadgen, {
      type: 'closed',
      connections: CONNECTIONS,
      durationMs: SECONDS * 1000,
    } satisfies ToLoadgen);
    const cpuMs = processCpuMs(server) - cpuBefore;
    const rssAfterPeakMb = peakRssMb(server);
    const after = await ask<UpstreamStats>(upstreams, { type: 'stats' } satisfies ToUpstreams);
    const clientCoreBusy = (after.cpuMs - before.cpuMs + peak.cpuMs) / peak.elapsedMs;
    console.log(
      `${variant.name}: ${peak.rps.toFixed(0)} req/s, ${(cpuMs / peak.good).toFixed(3)} CPU ms/req, ` +
        `core 1 ${(clientCoreBusy * 100).toFixed(0)}% busy, ${after.connections} upstream connections opened, RSS ${rssAfterPeakMb.toFixed(0)} MB, ${peak.bad} bad`,
    );

    const floorRps = floor?.peak.rps ?? peak.rps;
    const open: LoadReport[] = [];
    for (const share of PROFILE || !openLoop ? [] : LOAD_SHARES) {
      await sleep(500); // Let the previous phase's stragglers settle.
      const report = await ask<LoadReport>(loadgen, {
        type: 'open',
        rate: floorRps * share,
        durationMs: SECONDS * 1000,
      } satisfies ToLoadgen);
      console.log(
        `  open loop at ${(floorRps * share).toFixed(0)} req/s: p50 ${report.p50.toFixed(2)} ms, ` +
          `p99 ${report.p99.toFixed(2)} ms, ${report.bad} bad`,
      );
      open.push(report);
    }
    if (exited) throw new BrokenRun(`${variant.name} exited during the run`);
    const total = (service: ServiceName) => after.calls[service] - before.calls[service];
    const served = peak.good + peak.bad;
    return {
      name: variant.name,
      page: data,
      peak,
      open,
      cpuMsPerRequest: cpuMs / served,
      callsPerRequest: perService<PerService<number>>((service) => total(service) / served),
      rssAfterPeakMb,
      peakRssMb: peakRssMb(server),
      clientCoreBusy,
    };
  } finally {
    server.kill();
    if (!exited) await new Promise((resolve) => server.once('exit', resolve));
  }
}

/** Waits for the server to answer the page; returns its body as text, once parsed and printed. */
async function firstPage(origin: string, server: ChildProcess): Promise<string> {
  const startedAt = Date.now();
  for (;;) {
    if (server.exitCode !== null) throw new BrokenRun(`server exited with ${server.exitCode}`);
    try {
      const response = await fetch(`${origin}/graphql`, { method: 'POST', ...page });
      const text = await response.text();
      if (response.status !== 200) throw new BrokenRun(`HTTP ${response.status}: ${text}`);
      return JSON.stringify(JSON.parse(text), null, 1);
    } catch (error) {
      if (error instanceof BrokenRun) throw error;
      if (Date.now() - startedAt > 20_000) throw new BrokenRun(`no answer from ${origin}`);
      await sleep(100);
    }
  }
}

async function freePort(): Promise<number> {
  const probe = createServer();
  const url = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return Number(new URL(url).port);
}

/** User plus system CPU time of a child so far, from /proc (clock ticks of 10 ms). */
function processCpuMs(child: ChildProcess): number {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The child's resident set high-water mark. */
function peakRssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb) / 1024;
}
