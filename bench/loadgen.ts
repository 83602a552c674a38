// The load generator: a process of its own, driven by its parent over IPC. It
// sends the same GraphQL page request again and again over keep-alive
// connections (undici), and counts a response as good only when it is a 200
// whose body carries no `errors`.
//
// closed: `connections` clients, each sending its next request when the last
//   one is answered: the server's peak throughput at that concurrency.
// open: requests sent on a fixed schedule, whatever the server does, each timed
//   from when it was due, not from when it went out: a server that falls behind
//   shows it in its latency instead of slowing the schedule ("coordinated
//   omission").
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { percentile, type LoadReport, type ToLoadgen } from './lib.js';

let pool: Pool | undefined;
let target: Extract<ToLoadgen, { type: 'target' }> | undefined;

async function page(): Promise<boolean> {
  if (!pool || !target) throw new Error('no target set');
  try {
    const { statusCode, body } = await pool.request({
      path: target.path,
      method: 'POST',
      headers: target.headers,
      body: target.body,
    });
    const text = await body.text();
    return statusCode === 200 && !text.includes('"errors"');
  } catch {
    return false;
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
      if (await page()) good++;
      else bad++;
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  return report(latencies, good, bad, performance.now() - started, 0);
}

async function open(rate: number, durationMs: number) {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let good = 0;
  let bad = 0;
  let maxLagMs = 0;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && started + next * interval <= now) {
        const due = started + next * interval;
        maxLagMs = Math.max(maxLagMs, now - due);
        inFlight.push(
          page().then((ok) => {
            if (ok) good++;
            else bad++;
            latencies.push(performance.now() - due);
          }),
        );
        next++;
      }
      if (next >= total) return resolve();
      setTimeout(tick, Math.max(0, started + next * interval - performance.now()));
    };
    tick();
  });
  await Promise.all(inFlight);
  return report(latencies, good, bad, performance.now() - started, maxLagMs);
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
    maxLagMs,
  };
}

/** A phase's report, with the generator's own CPU time spent on it. */
async function measured(phase: () => Promise<Omit<LoadReport, 'cpuMs'>>): Promise<LoadReport> {
  const before = cpuMs();
  const report = await phase();
  return { ...report, cpuMs: cpuMs() - before };
}

process.on('message', async (message: ToLoadgen) => {
  let reply: unknown;
  switch (message.type) {
    case 'target':
      await pool?.close();
      target = message;
      // More connections than any phase keeps in flight, so requests never wait
      // for a socket in the generator (an open-loop phase past saturation may).
      pool = new Pool(message.origin, { connections: 512, pipelining: 1 });
      reply = { type: 'ok' };
      break;
    case 'closed':
      reply = await measured(() => closed(message.connections, message.durationMs));
      break;
    case 'open':
      reply = await measured(() => open(message.rate, message.durationMs));
      break;
  }
  process.send?.(reply);
});
process.send?.({ type: 'ready' });

function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
