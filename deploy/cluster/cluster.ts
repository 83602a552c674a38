import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { startDemoServices, type DemoServices } from '../../src/demo/services.js';
import { haproxyConfig, HEALTH_CHECK, REPLICA_DRAIN_DELAY_MS, replicaName } from './haproxy.js';
import {
  answers200,
  freePort,
  redisAnswersPing,
  run,
  stop,
  waitUntil,
  type Running,
} from './processes.js';

// `npm run cluster`: the production topology on loopback. One Redis, the demo
// upstream services, three gateway replicas sharing them, and HAProxy balancing
// round-robin with health checks on /ready, as a Kubernetes Service would. A
// replica that exits (try `kill -TERM <pid>`) drains, is taken out by HAProxy,
// and is started again, like a pod.
//
//   CLUSTER_PORT=4000          where HAProxy listens
//   LOG_LEVEL=warn             the replicas' log level (info logs every request)
//   DEMO_<SERVICE>_LATENCY_MS, DEMO_<SERVICE>_FAULT   as for `npm start`

const REPLICAS = 3;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const clusterPort = Number(process.env.CLUSTER_PORT ?? 4000);
if (!Number.isInteger(clusterPort) || clusterPort < 1 || clusterPort > 65535) {
  console.error(`CLUSTER_PORT must be a port number, got ${process.env.CLUSTER_PORT}`);
  process.exit(2);
}

const workDir = mkdtempSync(join(tmpdir(), 'homepage-bff-cluster-'));
let redis: Running | undefined;
let demo: DemoServices | undefined;
let haproxy: Running | undefined;
const replicas: Array<Running | undefined> = [];
let stopping = false;

// Whatever happens to this script, no child outlives it.
process.on('exit', () => {
  for (const running of [redis, haproxy, ...replicas]) running?.child.kill('SIGKILL');
  rmSync(workDir, { recursive: true, force: true });
});
// A Ctrl-C arrives twice: from the terminal and forwarded by npm. A second signal
// forces the stop only when it comes later than that, from an impatient person.
let firstSignalAt: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      void shutdown(0);
    } else if (Date.now() - firstSignalAt > 1000) {
      console.log('Stopping at once.');
      process.exit(1);
    }
  });
}

try {
  const redisPort = await freePort();
  // Quiet: its banner says nothing a person needs; its last lines are shown if it fails.
  redis = run(
    'redis',
    'redis-server',
    [
      ...['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', workDir],
      // A cache and counters for a demo: nothing to keep on disk.
      ...['--save', '', '--appendonly', 'no'],
    ],
    { echo: false, install: 'apt-get install redis-server' },
  );
  await waitUntil(redis, () => redisAnswersPing(redisPort));
  superviseInfrastructure(redis);

  // The demo services' settings (DEMO_* variables) and the token secret, as
  // `npm start` and `npm run token` read them: JWT_SECRET, or the public demo secret,
  // so `npm run token -- u-42` signs tokens the cluster accepts.
  const settings = loadConfig(
    Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => name.startsWith('DEMO_') || name === 'JWT_SECRET',
      ),
    ),
  );
  const jwtSecret = settings.auth.secret;
  if (jwtSecret === null) throw new Error('no JWT_SECRET to sign tokens with');
  // Started once and shared by every replica, as real upstreams are.
  demo = await startDemoServices(settings.demo);
  const upstreams = demo.urls;

  const replicaPorts = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()));
  const replicaEnv = (port: number): NodeJS.ProcessEnv => ({
    ...process.env,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    PROMO_URL: upstreams.promo,
    RECOMMENDATIONS_URL: upstreams.recommendations,
    CATALOG_URL: upstreams.catalog,
    JWT_SECRET: jwtSecret,
    REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
    DRAIN_DELAY_MS: String(REPLICA_DRAIN_DELAY_MS),
  });
  await Promise.all(
    replicaPorts.map((port, i) => startReplica(i, port, replicaEnv(port), { first: true })),
  );

  const statsPort = await freePort();
  const configFile = join(workDir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig({ port: clusterPort, statsPort, replicaPorts }));
  haproxy = run('haproxy', 'haproxy', ['-db', '-f', configFile], {
    install: 'apt-get install haproxy',
  });
  await waitUntil(haproxy, () => answers200(`http://127.0.0.1:${clusterPort}/ready`));
  superviseInfrastructure(haproxy);

  printGuide({ redisPort, statsPort, replicaPorts, configFile });
} catch (error) {
  // A Ctrl-C during startup fails the waits too: that is no error to report.
  if (!stopping) console.error(`\nThe cluster did not start: ${(error as Error).message}`);
  await shutdown(1);
}

// Private helpers.

/** Starts replica `index` and waits for its /ready; when it exits later, starts it again. */
async function startReplica(
  index: number,
  port: number,
  env: NodeJS.ProcessEnv,
  { first }: { first: boolean },
): Promise<void> {
  const name = replicaName(index);
  const replica = run(name, process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env,
    cwd: ROOT,
  });
  replicas[index] = replica;
  await waitUntil(replica, () => answers200(`http://127.0.0.1:${port}/ready`));
  if (!first) console.log(`[${name}] ready again (pid ${replica.child.pid})`);
  void replica.exited.then((code) => {
    if (stopping) return;
    console.log(`[${name}] exited (${code}); starting it again in 1 s`);
    setTimeout(() => {
      // A replica that cannot start again (e.g. its port was taken) stops the cluster.
      startReplica(index, port, env, { first: false }).catch((error: Error) => {
        console.error(error.message);
        void shutdown(1);
      });
    }, 1000);
  });
}

/** Redis and HAProxy are not restarted: without them there is no cluster to watch. */
function superviseInfrastructure(running: Running) {
  void running.exited.then((code) => {
    if (stopping) return;
    console.error(
      `[${running.name}] exited (${code})${running.echo ? '' : `:\n${running.tail()}`}`,
    );
    void shutdown(1);
  });
}

/** HAProxy first (no new requests), then the replicas drain, then what they used. */
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\nStopping (replicas drain for ${REPLICA_DRAIN_DELAY_MS / 1000} s)…`);
  if (haproxy) await stop(haproxy);
  await Promise.all(
    replicas.map(
      // The gateway's own bound: drain delay plus SHUTDOWN_TIMEOUT_MS (10 s default).
      (replica) => replica && stop(replica, 'SIGTERM', REPLICA_DRAIN_DELAY_MS + 10_000 + 1000),
    ),
  );
  await demo?.close();
  if (redis) await stop(redis);
  console.log('Stopped.');
  process.exit(code);
}

function printGuide(where: {
  redisPort: number;
  statsPort: number;
  replicaPorts: readonly number[];
  configFile: string;
}) {
  const graphql = `http://127.0.0.1:${clusterPort}/graphql`;
  const query = JSON.stringify({
    query: '{ homepage { promo { id } recommendations { score } } }',
  });
  const lines = [
    '',
    `Cluster up: ${REPLICAS} gateway replicas behind HAProxy, one Redis.`,
    '',
    `  GraphQL (round-robin)   ${graphql}   (GraphiQL in a browser)`,
    `  HAProxy stats           http://127.0.0.1:${where.statsPort}/`,
    ...where.replicaPorts.map(
      (port, i) =>
        `  ${replicaName(i)}               http://127.0.0.1:${port}   pid ${replicas[i]?.child.pid}`,
    ),
    `  Redis                   redis://127.0.0.1:${where.redisPort}/0`,
    `  HAProxy config          ${where.configFile}`,
    '',
    'Watch it:',
    `  curl -s -D - -o /dev/null ${graphql} -H 'content-type: application/json' -d '${query}' | grep x-served-by`,
    `  for port in ${where.replicaPorts.join(' ')}; do curl -s http://127.0.0.1:$port/metrics | grep '^bff_graphql_request_duration_seconds_count'; done`,
    `  redis-cli -p ${where.redisPort} monitor`,
    `  kill -TERM <pid>   # one replica drains (/ready 503), HAProxy takes it out within ${
      (HEALTH_CHECK.intervalMs * HEALTH_CHECK.fall) / 1000
    } s, it restarts`,
    '  npm run token -- u-42   # a token for personal picks (Authorization: Bearer …)',
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  console.log(lines.join('\n'));
}
