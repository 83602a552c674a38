import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { freePort } from './processes.js';

// Real Sentinel and Cluster deployments on loopback ports, made of Debian's
// redis-server and redis-sentinel processes, each in a temporary directory of
// its own (both rewrite their configuration files). Everything a test starts is
// killed and removed after it.

const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_SENTINEL = '/usr/bin/redis-sentinel';
const REDIS_CLI = '/usr/bin/redis-cli';
const run = promisify(execFile);

/** A master, its replica and the sentinels watching them as `name`. */
export type TestSentinels = {
  /** REDIS_URL for the gateway: every sentinel, then the master's name. */
  url: string;
  name: string;
  /** Plain clients of the two data nodes, by port, to look at what is stored. */
  nodes: Map<number, Redis>;
  /** The port the sentinels currently report as the master's. */
  masterPort(): Promise<number>;
  /** Asks a sentinel to fail over now and waits until it reports the new master's port. */
  failover(): Promise<number>;
};

/** A three-master Redis Cluster (no replicas). */
export type TestCluster = {
  /** REDIS_URL for the gateway: two of the three nodes (the third is discovered). */
  url: string;
  /** A plain Cluster client, to look at what is stored. */
  admin: Cluster;
  /** SIGKILLs every node: the whole cluster is gone. */
  kill(): void;
};

/** For a test file: Sentinel and Cluster deployments, torn down after each test. */
export function useRedisTopologies() {
  const children: ChildProcess[] = [];
  const clients: Array<Redis | Cluster> = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
    for (const child of children.splice(0)) child.kill('SIGKILL');
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const workDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'bff-redis-'));
    dirs.push(dir);
    return dir;
  };
  const launch = async (command: string, args: string[], ready: string) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    await untilOutput(child, ready);
  };
  const server = async (port: number, dir: string, extra: string[] = []) => {
    await launch(
      REDIS_SERVER,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        ...extra,
      ],
      'Ready to accept connections',
    );
    const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    client.on('error', () => {}); // a failover kills client connections
    clients.push(client);
    return client;
  };

  return {
    async startSentinels({ sentinels: count = 1 } = {}): Promise<TestSentinels> {
      const name = 'bffmaster';
      const dir = workDir();
      const [masterPort, replicaPort] = [await freePort(), await freePort()];
      const nodes = new Map<number, Redis>();
      nodes.set(masterPort, await server(masterPort, dir));
      const replica = await server(replicaPort, dir, [
        '--replicaof',
        '127.0.0.1',
        String(masterPort),
      ]);
      nodes.set(replicaPort, replica);
      await until(async () =>
        (await replica.info('replication')).includes('master_link_status:up'),
      );

      const sentinelPorts: number[] = [];
      for (let i = 0; i < count; i++) {
        const port = await freePort();
        const file = join(dir, `sentinel-${port}.conf`);
        writeFileSync(
          file,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${dir}`,
            `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
            `sentinel down-after-milliseconds ${name} 1000`,
            `sentinel failover-timeout ${name} 10000`,
            '',
          ].join('\n'),
        );
        await launch(REDIS_SENTINEL, [file], '+monitor master');
        sentinelPorts.push(port);
      }
      const sentinel = new Redis({ port: sentinelPorts[0], host: '127.0.0.1' });
      sentinel.on('error', () => {});
      clients.push(sentinel);
      const ask = (...args: string[]) => sentinel.call('SENTINEL', ...args);
      const masterPortNow = async () =>
        Number(((await ask('get-master-addr-by-name', name)) as string[])[1]);
      // A failover needs a replica the sentinel knows and considers healthy.
      await until(async () => {
        const replicas = (await ask('replicas', name)) as string[][];
        return replicas.some(
          (fields) =>
            fields.join(' ').includes(`port ${replicaPort}`) &&
            !fields.join(' ').includes('disconnected'),
        );
      });

      return {
        url: `redis-sentinel://${sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',')}/${name}`,
        name,
        nodes,
        masterPort: masterPortNow,
        async failover() {
          const before = await masterPortNow();
          await ask('failover', name);
          await until(async () => (await masterPortNow()) !== before, 15_000);
          return masterPortNow();
        },
      };
    },

    async startCluster(): Promise<TestCluster> {
      const dir = workDir();
      const ports = [await freePort(), await freePort(), await freePort()];
      const first = children.length;
      for (const port of ports) {
        await server(port, dir, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '2000',
        ]);
      }
      await run(REDIS_CLI, [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      for (const port of ports) {
        await until(async () => {
          const { stdout } = await run(REDIS_CLI, ['-p', String(port), 'cluster', 'info']);
          return stdout.includes('cluster_state:ok');
        });
      }
      const admin = new Cluster([{ host: '127.0.0.1', port: ports[0] ?? 0 }]);
      admin.on('error', () => {});
      clients.push(admin);
      const nodes = children.slice(first, first + ports.length);
      return {
        url: `redis-cluster://127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`,
        admin,
        kill: () => nodes.forEach((node) => node.kill('SIGKILL')),
      };
    },
  };
}

/** Polls `check` every 50 ms until it holds; fails after `limitMs`. */
export async function until(check: () => Promise<boolean>, limitMs = 10_000): Promise<void> {
  const stopAt = Date.now() + limitMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet: a server still starting, a connection being re-made
    }
    if (Date.now() > stopAt)
      throw new Error(`condition not met within ${limitMs} ms: ${check.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Private helpers.

function untilOutput(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(text)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${child.spawnfile} exited (${code}) before "${text}":\n${output}`)),
    );
  });
}
