// One benchmarked server as a child process on the server core: started with
// the upstreams' URLs, read from /proc (CPU time, resident memory), stopped.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVICES, type PerService } from '../src/upstreams/services.js';
import { BENCH_SECRET, freePort, spawnPinned, type PageRequest } from './lib.js';
import type { ServerSpec } from './rows.js';

export class BrokenRun extends Error {
  override name = 'BrokenRun';
}

export type ServerProcess = {
  spec: ServerSpec;
  origin: string;
  /** Where a gateway serves /metrics (its METRICS_PORT). */
  metricsOrigin: string;
  child: ChildProcess;
  /** User plus system CPU time so far, from /proc (clock ticks of 10 ms). */
  cpuMs(): number;
  /** Resident set now. */
  rssMb(): number;
  exited(): boolean;
  stop(): Promise<void>;
};

export type StartOptions = {
  build: URL;
  core: number;
  upstreamUrls: PerService<string>;
  redisUrl?: string;
  /** Extra node flags (BENCH_PROFILE's --cpu-prof). */
  nodeFlags?: string[];
};

export async function startServer(spec: ServerSpec, options: StartOptions): Promise<ServerProcess> {
  const port = await freePort();
  // Production serves /metrics on a port of its own (METRICS_PORT): one per process.
  const metricsPort = await freePort();
  if (spec.redis && !options.redisUrl) throw new BrokenRun(`${spec.key} needs Redis`);
  const child = spawnPinned(
    options.core,
    [
      ...(spec.nodeFlags ?? []),
      ...(options.nodeFlags ?? []),
      new URL(spec.script, options.build).pathname,
    ],
    {
      quiet: true,
      env: {
        NODE_ENV: 'production',
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        JWT_SECRET: BENCH_SECRET,
        // Stopping at the end needs no load balancer to drain from.
        DRAIN_DELAY_MS: '0',
        ...Object.fromEntries(
          SERVICES.map((service) => [
            `${service.toUpperCase()}_URL`,
            options.upstreamUrls[service],
          ]),
        ),
        ...spec.env,
        ...(spec.redis && { REDIS_URL: options.redisUrl }),
        ...(process.env.BENCH_NODE_OPTIONS && { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS }),
      },
    },
  );
  let exited = false;
  child.once('exit', () => (exited = true));
  const proc = `/proc/${child.pid}`;
  return {
    spec,
    origin: `http://127.0.0.1:${port}`,
    metricsOrigin: `http://127.0.0.1:${metricsPort}`,
    child,
    cpuMs: () => processCpuMs(child.pid ?? 0),
    rssMb() {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`${proc}/status`, 'utf8'))?.[1];
      return Number(kb) / 1024;
    },
    exited: () => exited,
    async stop() {
      if (exited) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await done;
    },
  };
}

/** User plus system CPU time of process `pid` so far, from /proc (clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    throw new BrokenRun(`process ${pid} exited during the run`);
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Waits for the server to answer the page; returns its body, parsed and printed. */
export async function firstPage(server: ServerProcess, request: PageRequest): Promise<string> {
  const startedAt = Date.now();
  for (;;) {
    if (server.exited()) throw new BrokenRun(`${server.spec.key} exited before answering`);
    try {
      const response = await fetch(`${server.origin}/graphql`, { method: 'POST', ...request });
      const text = await response.text();
      // Admission control may shed while every server is still starting on the one core.
      if (response.status === 503) throw new Error('not ready yet');
      if (response.status !== 200) {
        throw new BrokenRun(`${server.spec.key}: HTTP ${response.status}: ${text}`);
      }
      return JSON.stringify(JSON.parse(text), null, 1);
    } catch (error) {
      if (error instanceof BrokenRun) throw error;
      if (Date.now() - startedAt > 60_000) {
        throw new BrokenRun(`no answer from ${server.spec.key} at ${server.origin}`);
      }
      await sleep(100);
    }
  }
}

/** The highest resident set of `server` while `work` runs, sampled every 50 ms. */
export async function withRssPeak<T>(
  server: ServerProcess,
  work: () => Promise<T>,
): Promise<{ result: T; rssPeakMb: number }> {
  let rssPeakMb = server.rssMb();
  const sample = setInterval(() => {
    try {
      rssPeakMb = Math.max(rssPeakMb, server.rssMb());
    } catch {
      // Exited: the caller finds out.
    }
  }, 50);
  try {
    const result = await work();
    rssPeakMb = Math.max(rssPeakMb, server.rssMb());
    return { result, rssPeakMb };
  } finally {
    clearInterval(sample);
  }
}
