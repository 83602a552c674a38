import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { silentLogger, type Logger } from '../../src/logger.js';
import { silentSharedMetrics, type SharedStateMetrics } from '../../src/observability/metrics.js';
import { createRedisConnection, type RedisConnection } from '../../src/redis/connection.js';

const REDIS_SERVER = '/usr/bin/redis-server';

/** A real redis-server on a loopback port of its own, and what a test does to it. */
export type TestRedis = {
  url: string;
  /** A plain client (no key prefix, no timeouts) to look at or corrupt what is stored. */
  admin: Redis;
  /** SIGSTOP: the TCP connection stays up, commands get no answer. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGKILL, and wait for the process to be gone: connections are refused. */
  kill(): Promise<void>;
  /** A new, empty server on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
};

/** Starts redis-server without persistence on a free loopback port. */
export async function startRedis(): Promise<TestRedis> {
  // redis-server has no `--port 0`: take a free port from the kernel, then hand it over.
  const port = await freePort();
  let server = await launch(port);
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  admin.on('error', () => {}); // the tests kill the server under it
  await admin.connect();
  let paused = false;
  const kill = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const gone = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    await gone;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    admin,
    pause() {
      server.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      server.kill('SIGCONT');
      paused = false;
    },
    kill,
    async restart() {
      await kill();
      server = await launch(port);
    },
    async close() {
      if (paused) server.kill('SIGCONT');
      admin.disconnect();
      await kill();
    },
  };
}

/** For a test file: Redis servers and connections opened by a test are closed after it. */
export function useRedis() {
  const servers: TestRedis[] = [];
  const connections: RedisConnection[] = [];
  afterEach(async () => {
    for (const connection of connections.splice(0)) connection.close();
    await Promise.all(servers.splice(0).map((redis) => redis.close()));
  });
  return {
    async start(): Promise<TestRedis> {
      const redis = await startRedis();
      servers.push(redis);
      return redis;
    },
    /** One replica's connection, as build-server.ts builds it, with a quick breaker probe. */
    connect(
      redis: TestRedis,
      options: {
        metrics?: SharedStateMetrics;
        logger?: Logger;
        localTtlMs?: number;
        /**
         * REDIS_TIMEOUT_MS; 1000 unless given, so that a busy test machine never
         * turns a hit into a miss in tests about sharing.
         */
        timeoutMs?: number;
      } = {},
    ): RedisConnection {
      const connection = createRedisConnection({
        url: redis.url,
        keyPrefix: 'homepage-bff:',
        timeoutMs: options.timeoutMs ?? 1000,
        localTtlMs: options.localTtlMs ?? 5000,
        logger: options.logger ?? silentLogger,
        metrics: options.metrics ?? silentSharedMetrics,
        breakerHalfOpenMs: 100,
      });
      connections.push(connection);
      return connection;
    },
  };
}

/** Waits until `connection` has spoken to Redis (startup connects in the background). */
export async function connected(connection: RedisConnection): Promise<void> {
  for (let i = 0; i < 200 && connection.client.status !== 'ready'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (connection.client.status !== 'ready') throw new Error('Redis connection never became ready');
}

/**
 * Waits until the gateway whose metrics are at `origin` reports Redis up: it
 * connects in the background, and a write made before that is dropped, never
 * queued.
 */
export async function redisUp(origin: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    const metrics = await (await fetch(`${origin}/metrics`)).text();
    if (/bff_redis_state\{state="up"\} 1/.test(metrics)) return;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  throw new Error(`${origin} never reported Redis up`);
}

/** Waits until `keys` (unprefixed) exist: writes are fire-and-forget. */
export async function stored(redis: TestRedis, ...keys: string[]): Promise<void> {
  const full = keys.map((key) => `homepage-bff:${key}`);
  for (let i = 0; i < 200; i++) {
    if ((await redis.admin.exists(...full)) === full.length) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`Redis never held ${full.join(', ')}`);
}

// Private helpers.

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Starts the server and resolves once it accepts connections. */
function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve(child);
    });
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)),
    );
  });
}
