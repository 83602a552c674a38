// The load generator: a process of its own, driven by its parent over IPC. It
// sends the same GraphQL page request again and again over keep-alive
// connections (undici, one pool per server, kept between bursts), and counts a
// response as good only when it is a 200 whose body carries no `errors`.
//
// closed: `connections` clients, each sending its next request when the last
//   one is answered: the server's peak throughput at that concurrency.
// open: requests sent on a fixed schedule, whatever the server does, each timed
//   from when it was due, not from when it went out: a server that falls behind
//   shows it in its latency instead of slowing the schedule ("coordinated
//   omission").
// overload: an open loop far above the server's peak, then a light one, on one
//   schedule; answers are told apart as complete pages, coded 503 sheds, and
//   anything else.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import {
  percentile,
  type LoadReport,
  type OverloadPlan,
  type OverloadReport,
  type ToLoadgen,
} from './lib.js';
import { timeBackToNormal, type RecoveryAnswer } from './recovery.js';

const pools = new Map<string, Pool>();
let pool: Pool | undefined;
let target: Extract<ToLoadgen, { type: 'target' }> | undefined;

type Outcome = 'complete' | 'shed' | 'other';

async function page(timeoutMs?: number): Promise<Outcome> {
  if (!pool || !target) throw new Error('no target set');
  try {
    const { statusCode, body } = await pool.request({
      path: target.path,
      method: 'POST',
      headers: target.headers,
      body: target.body,
      // From the call, so that a request still queued in the pool times out too.
      ...(timeoutMs !== undefined && { signal: AbortSignal.timeout(timeoutMs) }),
    });
    const text = await body.text();
    if (statusCode === 200 && !text.includes('"errors"')) return 'complete';
    if (statusCode === 503 && text.includes('OVERLOADED')) return 'shed';
    return 'other';
  } catch {
    return 'other';
  }
}

async function closed(connections: number, durationMs: number) {
  const latencies: number[] = [];
  let good = 0;
  let bad = 0;
  const started = performance.now();
  const until = started + durationMs;
  const client = async () => {
    while (performance.now() < until) {
      const sent = performance.now();
      if ((await page()) === 'complete') good++;
      else bad++;
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  const report_ = report(latencies, good, bad, performance.now() - started, 0);
  // Closed-loop latencies are not sent back: only open-loop ones are free of coordinated omission.
  return { ...report_, latencies: [] };
}

/** One fixed schedule: request i is due at `due(i)`; resolves when every answer is in. */
async function schedule(
  total: number,
  due: (i: number) => number,
  send: (i: number, dueAt: number) => Promise<void>,
): Promise<number> {
  let maxLagMs = 0;
  const inFlight: Promise<void>[] = [];
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && due(next) <= now) {
        maxLagMs = Math.max(maxLagMs, now - due(next));
        inFlight.push(send(next, due(next)));
        next++;
      }
      if (next >= total) return resolve();
      setTimeout(tick, Math.max(0, due(next) - performance.now()));
    };
    tick();
  });
  await Promise.all(inFlight);
  return maxLagMs;
}

async function open(rate: number, durationMs: number) {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let good = 0;
  let bad = 0;
  const started = performance.now();
  const maxLagMs = await schedule(
    total,
    (i) => started + i * interval,
    async (_, dueAt) => {
      if ((await page()) === 'complete') good++;
      else bad++;
      latencies.push(performance.now() - dueAt);
    },
  );
  return report(latencies, good, bad, performance.now() - started, maxLagMs);
}

async function overload(plan: OverloadPlan): Promise<Omit<OverloadReport, 'cpuMs'>> {
  if (plan.preconnect) await preconnect(plan.preconnect);
  const spikeTotal = Math.max(1, Math.round((plan.spikeRate * plan.spikeMs) / 1000));
  const recoveryTotal = Math.max(1, Math.round((plan.recoveryRate * plan.recoveryMs) / 1000));
  const started = performance.now();
  const spikeEnd = started + plan.spikeMs;
  const due = (i: number) =>
    i < spikeTotal
      ? started + (i * 1000) / plan.spikeRate
      : spikeEnd + ((i - spikeTotal) * 1000) / plan.recoveryRate;
  const spike: Record<Outcome, number[]> = { complete: [], shed: [], other: [] };
  // Recovery-phase answers: when each was due, and whether it was back to normal.
  const recovery: RecoveryAnswer[] = [];
  const maxLagMs = await schedule(spikeTotal + recoveryTotal, due, async (i, dueAt) => {
    const outcome = await page(plan.timeoutMs);
    const latency = performance.now() - dueAt;
    if (i < spikeTotal) spike[outcome].push(latency);
    else recovery.push({ dueAt, normal: outcome === 'complete' && latency <= plan.normalMs });
  });
  for (const latencies of Object.values(spike)) latencies.sort((a, b) => a - b);
  const all = [...spike.complete, ...spike.shed, ...spike.other].sort((a, b) => a - b);
  return {
    due: spikeTotal,
    complete: spike.complete.length,
    shed: spike.shed.length,
    other: spike.other.length,
    goodput:
      (spike.complete.filter((latency) => latency <= plan.deadlineMs).length / plan.spikeMs) * 1000,
    completeP50: percentile(spike.complete, 0.5),
    completeP99: percentile(spike.complete, 0.99),
    shedP50: percentile(spike.shed, 0.5),
    shedP99: percentile(spike.shed, 0.99),
    allP99: percentile(all, 0.99),
    recoveryMs: timeBackToNormal(recovery, spikeEnd),
    maxLagMs,
  };
}

/** Opens `connections` keep-alive connections: that many requests at once, to the cheapest route. */
async function preconnect(connections: number) {
  if (!pool) throw new Error('no target set');
  const open = pool;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const { body } = await open.request({ path: '/health', method: 'GET' });
      await body.dump();
    }),
  );
}

function report(
  latencies: number[],
  good: number,
  bad: number,
  elapsedMs: number,
  maxLagMs: number,
): Omit<LoadReport, 'cpuMs'> {
  latencies.sort((a, b) => a - b);
  return {
    good,
    bad,
    elapsedMs,
    rps: (good / elapsedMs) * 1000,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    latencies,
    maxLagMs,
  };
}

/** A phase's report, with the generator's own CPU time spent on it. */
async function measured<T>(phase: () => Promise<T>): Promise<T & { cpuMs: number }> {
  const before = cpuMs();
  const report = await phase();
  return { ...report, cpuMs: cpuMs() - before };
}

process.on('message', async (message: ToLoadgen) => {
  let reply: unknown;
  switch (message.type) {
    case 'target':
      target = message;
      pool = pools.get(message.origin);
      if (!pool) {
        // More connections than any phase keeps in flight, so requests never wait
        // for a socket in the generator (an open-loop phase past saturation may).
        pool = new Pool(message.origin, { connections: 512, pipelining: 1 });
        pools.set(message.origin, pool);
      }
      reply = { type: 'ok' };
      break;
    case 'closed':
      reply = await measured(() => closed(message.connections, message.durationMs));
      break;
    case 'open':
      reply = await measured(() => open(message.rate, message.durationMs));
      break;
    case 'overload':
      reply = await measured(() => overload(message));
      break;
  }
  process.send?.(reply);
});
process.send?.({ type: 'ready' });

function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
