import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { signToken } from '../src/auth.js';
import type { PerService } from '../src/upstreams/services.js';

/** The HS256 secret every benchmarked server is started with. */
export const BENCH_SECRET = 'bench-secret-that-is-long-enough-for-hs256';

/** Configuration that turns every cache of the gateway off: every page goes upstream. */
export const UNCACHED_ENV = {
  PROMO_CACHE_TTL_MS: '0',
  PROMO_STALE_WHILE_REVALIDATE_MS: '0',
  PROMO_STALE_IF_ERROR_MS: '0',
  CATALOG_CACHE_TTL_MS: '0',
  PAGE_CACHE_TTL_MS: '0',
};

/** Who asks for the page: signed-in user `u-42` (personal picks), or nobody (popular picks). */
export type Viewer = 'signed-in' | 'anonymous';
export type PageRequest = { headers: Record<string, string>; body: string };

/**
 * The benchmarked page: the web client's trusted document, POSTed as JSON,
 * with a token for `u-42` when signed in and no credentials at all otherwise.
 */
export async function pageRequest(viewer: Viewer = 'signed-in'): Promise<PageRequest> {
  const query = readFileSync(
    new URL('../operations/web/Homepage.graphql', import.meta.url),
    'utf8',
  );
  return {
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(viewer === 'signed-in' && {
        authorization: `Bearer ${await signToken(BENCH_SECRET, 'u-42')}`,
      }),
    },
    body: JSON.stringify({ query, operationName: 'Homepage' }),
  };
}

/** Listens on an ephemeral loopback port; resolves to the base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A free loopback port (probed, then released). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  const url = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return Number(new URL(url).port);
}

/** The median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** The value below which a share `q` of the sorted `values` lie (nearest rank). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

// Messages between the benchmark and its child processes.

export type ToUpstreams =
  { type: 'latency'; latencyMs: PerService<number> } | { type: 'reset' } | { type: 'stats' };
export type UpstreamStats = {
  calls: PerService<number>;
  /** TCP connections the upstreams accepted. */
  connections: number;
  cpuMs: number;
};

export type ToLoadgen =
  | ({ type: 'target'; origin: string; path: string } & PageRequest)
  | { type: 'closed'; connections: number; durationMs: number }
  | { type: 'open'; rate: number; durationMs: number }
  | ({ type: 'overload' } & OverloadPlan);

/** One load phase, as the generator saw it. Latencies in ms. */
export type LoadReport = {
  good: number;
  bad: number;
  elapsedMs: number;
  /** Good responses per second. */
  rps: number;
  p50: number;
  p99: number;
  /** Every response's latency, sorted (open loop only: pooled across rounds by the parent). */
  latencies: number[];
  /** Open loop: how late the generator itself sent its latest request. */
  maxLagMs: number;
  /** The generator's own CPU time in the phase. */
  cpuMs: number;
};

/**
 * A traffic spike: open loop at `spikeRate` for `spikeMs`, then at `recoveryRate`
 * for `recoveryMs`, on one schedule. Every request is timed from when it was due.
 */
export type OverloadPlan = {
  spikeRate: number;
  spikeMs: number;
  recoveryRate: number;
  recoveryMs: number;
  /** A recovery-phase answer slower than this is not back to normal. */
  normalMs: number;
  /** A request unanswered after this long counts as a failure. */
  timeoutMs: number;
  /** Complete pages later than this (from when they were due) are not goodput. */
  deadlineMs: number;
  /**
   * Connections opened (`GET /health`, all at once) just before the spike, as a
   * load balancer's pool holds them. Without them, the connections a spike
   * needs queue in the kernel: Node (libuv since 1.45) accepts one connection
   * per turn of a saturated event loop. Default: none.
   */
  preconnect?: number;
};

/** What a spike did. Latencies in ms, from when each request was due. */
export type OverloadReport = {
  /** Requests due during the spike, and how each ended. */
  due: number;
  complete: number;
  /** 503 with `extensions.code: OVERLOADED`. */
  shed: number;
  /** Anything else: other statuses, errors in the body, resets, timeouts. */
  other: number;
  /** Complete pages within the deadline, per second of the spike. */
  goodput: number;
  completeP50: number;
  completeP99: number;
  shedP50: number;
  shedP99: number;
  allP99: number;
  /**
   * From the end of the spike to the due time of the last recovery-phase request
   * slower than `normalMs`; 0 when none was; null when the last one still was.
   */
  recoveryMs: number | null;
  maxLagMs: number;
  cpuMs: number;
};

/** The repository's root. */
export const ROOT = new URL('..', import.meta.url);

/**
 * Compiles the gateway and the bench's own processes (bench/tsconfig.json) into
 * `.bench-build/`, to run with plain node: no loader in the measured processes.
 * The compiled gateway reads schema.graphql and operations/ relative to its own
 * files, as dist/ does: they are copied beside it. Returns the build's URL.
 */
export function compileBench(): URL {
  const build = new URL('.bench-build/', ROOT);
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'bench/tsconfig.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  cpSync(new URL('schema.graphql', ROOT), new URL('schema.graphql', build));
  cpSync(new URL('operations', ROOT), new URL('operations', build), { recursive: true });
  return build;
}

/** Cores are pinned with taskset when the machine has it. */
export const PINNING = existsSync('/usr/bin/taskset');

/** Starts a Node process on `core` (when pinning is possible) with an IPC channel. */
export function spawnPinned(
  core: number,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; quiet?: boolean } = {},
): ChildProcess {
  const command = PINNING ? ['taskset', '-c', String(core), process.execPath] : [process.execPath];
  const [file, ...rest] = [...command, ...args];
  return spawn(file as string, rest, {
    stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...options.env },
  });
}

/** A load phase: anything the generator runs but `target`. */
export type LoadPhase = Exclude<ToLoadgen, { type: 'target' }>;

/**
 * Points the load generator at `origin` (the page as `request`), gives the
 * server 100 ms to settle, then runs `phase`: the generator's report.
 */
export async function runPhase<T = LoadReport>(
  loadgen: ChildProcess,
  origin: string,
  request: PageRequest,
  phase: LoadPhase,
): Promise<T> {
  await ask(loadgen, { type: 'target', origin, path: '/graphql', ...request } satisfies ToLoadgen);
  await sleep(100);
  return ask<T>(loadgen, phase);
}

/** Sends `message` and resolves to the child's next message. */
export function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child exited with ${code}`));
    child.once('exit', onExit);
    child.once('message', (reply) => {
      child.off('exit', onExit);
      resolve(reply as T);
    });
    child.send(message as object);
  });
}

/** Resolves to the child's first message (its "ready"). */
export function firstMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before ready`)));
    child.once('message', (message) => resolve(message as T));
  });
}
