// A real Redis for the benchmark's Redis row: Debian's redis-server on a free
// loopback port, in memory only (no RDB snapshots, no append-only file), beside
// the upstreams on the client core. Killed by its starter.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, PINNING } from './lib.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

export type BenchRedis = {
  url: string;
  process: ChildProcess;
  /** Commands the server has processed so far (INFO stats), connections included. */
  commands(): Promise<number>;
  stop(): Promise<void>;
};

/** Starts redis-server on `core` and resolves once it answers PING. */
export async function startRedis(core: number): Promise<BenchRedis> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(
      `${REDIS_SERVER} not found: install Debian's redis-server, or leave the Redis row out (BENCH_ONLY=…)`,
    );
  }
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const [file, ...rest] = PINNING
    ? ['taskset', '-c', String(core), REDIS_SERVER, ...args]
    : [REDIS_SERVER, ...args];
  const child = spawn(file as string, rest, { stdio: 'ignore' });
  const startedAt = Date.now();
  while (!(await pings(port))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    if (Date.now() - startedAt > 10_000) throw new Error(`redis-server: no answer on ${port}`);
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    process: child,
    async commands() {
      const info = await inline(port, 'INFO stats', /total_commands_processed:(\d+)/);
      return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

/** True when the server answers PING. */
async function pings(port: number): Promise<boolean> {
  return (await inline(port, 'PING', /\+PONG/)).startsWith('+PONG');
}

/**
 * One inline command on a connection of its own; resolves to what came back
 * once it matches `done` ('' on error or after 500 ms).
 */
function inline(port: number, command: string, done: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(port, '127.0.0.1');
    const finish = (value: string) => {
      resolve(value);
      socket.destroy();
    };
    socket.setTimeout(500);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (data) => {
      text += data.toString();
      if (done.test(text)) finish(text);
    });
    for (const event of ['error', 'timeout', 'close'] as const)
      socket.once(event, () => finish(''));
  });
}
