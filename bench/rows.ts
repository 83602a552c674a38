// What `npm run bench` measures: server processes (a script and its
// environment), and rows (a server asked for the page by one kind of viewer).
// A row whose feature is not built yet (the page cache, Redis) measures the
// plain gateway: its environment variable is then simply not read.
import { UNCACHED_ENV, type Viewer } from './lib.js';

export type ServerSpec = {
  key: string;
  /** Compiled script, relative to .bench-build/. */
  script: string;
  env?: Record<string, string>;
  /** Started with `REDIS_URL` pointing at the benchmark's own redis-server. */
  redis?: boolean;
  /** Node flags of this server alone (a lever's row). */
  nodeFlags?: string[];
};

export type RowSpec = {
  name: string;
  server: string;
  viewer: Viewer;
  /** What the row is for, in the report. */
  about: string;
};

/** The canned answer's script: each server running it is handed a page-cache hit to serve (homepage.ts). */
export const CANNED_SCRIPT = 'bench/servers/canned.js';

export const SERVERS: ServerSpec[] = [
  { key: 'floor', script: 'bench/servers/floor.js' },
  // Ablations of the fixed stack (issue 20): the floor with ky as its HTTP
  // client, and graphql-yoga answering from the floor's page.
  { key: 'floor-ky', script: 'bench/servers/floor.js', env: { FLOOR_CLIENT: 'ky' } },
  { key: 'yoga-floor', script: 'bench/servers/yoga-floor.js' },
  { key: 'yoga-floor-ky', script: 'bench/servers/yoga-floor.js', env: { FLOOR_CLIENT: 'ky' } },
  // Handed the bytes and headers of a page-cache hit of `gateway-cached` (homepage.ts).
  { key: 'canned', script: CANNED_SCRIPT },
  // Ablation: the least a keyed, logged page-cache hit does (issue 20).
  { key: 'canned-minimal-hit', script: CANNED_SCRIPT, env: { CANNED_HIT: 'minimal' } },
  { key: 'gateway', script: 'src/main.js', env: UNCACHED_ENV },
  // The same gateway again: the A/A pair whose spread is the run's noise floor.
  { key: 'gateway-copy', script: 'src/main.js', env: UNCACHED_ENV },
  { key: 'gateway-cached', script: 'src/main.js' },
  { key: 'gateway-no-page-cache', script: 'src/main.js', env: { PAGE_CACHE_TTL_MS: '0' } },
  { key: 'gateway-redis', script: 'src/main.js', redis: true },
  // Ablation: the page-cache hit without its request log line (issue 20).
  { key: 'gateway-cached-unlogged', script: 'src/main.js', env: { LOG_LEVEL: 'warn' } },
  { key: 'apollo', script: 'bench/servers/apollo.js', env: UNCACHED_ENV },
  { key: 'mercurius', script: 'bench/servers/mercurius.js', env: UNCACHED_ENV },
  { key: 'sequential', script: 'bench/servers/sequential.js', env: UNCACHED_ENV },
  // Lever: V8's garbage collector on the main thread only. Its concurrent marking
  // otherwise shares the server's one core with the main thread for 50-70 ms a
  // cycle (BENCHMARKS.md, issue 20).
  {
    key: 'gateway-single-threaded-gc',
    script: 'src/main.js',
    env: UNCACHED_ENV,
    nodeFlags: ['--single-threaded-gc'],
  },
  // Levers: fixed in-flight caps on top of adaptive admission (issue 17; the
  // full sweep, with ADMISSION=off, is bench/admission.ts).
  {
    key: 'gateway-admission-100',
    script: 'src/main.js',
    env: { ...UNCACHED_ENV, MAX_IN_FLIGHT: '100' },
  },
  {
    key: 'gateway-admission-64',
    script: 'src/main.js',
    env: { ...UNCACHED_ENV, MAX_IN_FLIGHT: '64' },
  },
];

/** Row names the report and the targets refer to. */
export const ROW = {
  floor: 'floor',
  floorAnonymous: 'floor, anonymous',
  canned: 'canned answer',
  minimalHit: 'canned answer, keyed and logged',
  floorKy: 'floor, calls through ky',
  yogaFloor: 'graphql-yoga over the floor',
  yogaFloorKy: 'graphql-yoga over the floor, calls through ky',
  gateway: 'gateway',
  copy: 'gateway (A/A copy)',
  cached: 'gateway, caches on',
  anonymousUncached: 'gateway, anonymous, page cache off',
  anonymousCached: 'gateway, anonymous, page cache on',
  redis: 'gateway, caches on, Redis',
  anonymousCachedUnlogged: 'gateway, anonymous, page cache on, LOG_LEVEL=warn',
  apollo: 'Apollo Server 5',
  mercurius: 'Mercurius + graphql-jit',
  sequential: 'gateway, sequential',
  singleThreadedGc: 'gateway, single-threaded GC',
  admission100: 'gateway, MAX_IN_FLIGHT=100',
  admission64: 'gateway, MAX_IN_FLIGHT=64',
} as const;

export const ROWS: RowSpec[] = [
  {
    name: ROW.floor,
    server: 'floor',
    viewer: 'signed-in',
    about:
      'hand-written node:http endpoint (bench/servers/floor.ts): jose, Promise.all over keep-alive http.request, one catalog call',
  },
  {
    name: ROW.floorAnonymous,
    server: 'floor',
    viewer: 'anonymous',
    about: 'the same floor asked for the anonymous page (popular picks, no token to verify)',
  },
  {
    name: ROW.canned,
    server: 'canned',
    viewer: 'anonymous',
    about:
      "node:http writing the bytes and headers of the gateway's page-cache hit (bench/servers/canned.ts): what this machine allows a hit",
  },
  {
    name: ROW.minimalHit,
    server: 'canned-minimal-hit',
    viewer: 'anonymous',
    about:
      'ablation: the canned answer plus the least a keyed, logged hit does (the body hashed into a key with SHA-256, a Map lookup, one pino request line; bench/servers/canned.ts): what this stack allows a hit that keeps its features',
  },
  {
    name: ROW.floorKy,
    server: 'floor-ky',
    viewer: 'signed-in',
    about:
      "ablation: the floor with its three calls made through ky 1 on the gateway's undici pool, as the upstream client makes them (a call's AbortController and timer, ky's retries and timeout off): what the fixed HTTP client alone costs",
  },
  {
    name: ROW.yogaFloor,
    server: 'yoga-floor',
    viewer: 'signed-in',
    about:
      "ablation: graphql-yoga and graphql as shipped, the gateway's schema, `homepage` resolved to the floor's page over http.request (bench/servers/yoga-floor.ts; no ky, zod, DataLoader or plugin of ours): what the fixed server stack alone costs",
  },
  {
    name: ROW.yogaFloorKy,
    server: 'yoga-floor-ky',
    viewer: 'signed-in',
    about:
      "ablation: both of the above together, graphql-yoga over the floor with its calls through ky: the fixed stack with none of the gateway's own work (validation, batching, resilience, observability, admission)",
  },
  {
    name: ROW.gateway,
    server: 'gateway',
    viewer: 'signed-in',
    about: 'src/main.ts as shipped, every cache off (promo, books, page)',
  },
  {
    name: ROW.copy,
    server: 'gateway-copy',
    viewer: 'signed-in',
    about: 'a second process of exactly the same: its spread from `gateway` is the noise floor',
  },
  {
    name: ROW.cached,
    server: 'gateway-cached',
    viewer: 'signed-in',
    about: 'src/main.ts with its defaults: promo and book caches in memory',
  },
  {
    name: ROW.anonymousUncached,
    server: 'gateway-no-page-cache',
    viewer: 'anonymous',
    about: 'defaults but `PAGE_CACHE_TTL_MS=0`: every anonymous page runs the pipeline',
  },
  {
    name: ROW.anonymousCached,
    server: 'gateway-cached',
    viewer: 'anonymous',
    about: 'defaults: anonymous pages from the page cache in front of yoga',
  },
  {
    name: ROW.anonymousCachedUnlogged,
    server: 'gateway-cached-unlogged',
    viewer: 'anonymous',
    about:
      'ablation: page-cache hits as above with no request log line (`LOG_LEVEL=warn`): what the line, a feature, costs a hit',
  },
  {
    name: ROW.redis,
    server: 'gateway-redis',
    viewer: 'signed-in',
    about:
      'defaults plus `REDIS_URL` (a redis-server on the client core): caches in memory, then Redis',
  },
  {
    name: ROW.apollo,
    server: 'apollo',
    viewer: 'signed-in',
    about: "Apollo Server 5 (standalone), the gateway's schema, resolvers, clients and context",
  },
  {
    name: ROW.mercurius,
    server: 'mercurius',
    viewer: 'signed-in',
    about:
      'Mercurius 16 on Fastify 5, `jit: 1` (graphql-jit), the same schema, resolvers, clients and context',
  },
  {
    name: ROW.sequential,
    server: 'sequential',
    viewer: 'signed-in',
    about: 'the gateway with Homepage.recommendations waiting for Homepage.promo',
  },
  {
    name: ROW.singleThreadedGc,
    server: 'gateway-single-threaded-gc',
    viewer: 'signed-in',
    about: 'lever: `gateway` started with `node --single-threaded-gc` (no GC helper threads)',
  },
  {
    name: ROW.admission100,
    server: 'gateway-admission-100',
    viewer: 'signed-in',
    about: 'lever: `gateway` with a fixed cap, `MAX_IN_FLIGHT=100`, on top of adaptive admission',
  },
  {
    name: ROW.admission64,
    server: 'gateway-admission-64',
    viewer: 'signed-in',
    about: 'lever: `gateway` with a fixed cap, `MAX_IN_FLIGHT=64`, on top of adaptive admission',
  },
];

/** Always measured, whatever BENCH_ONLY says: the base and the noise floor. */
export const REQUIRED_ROWS: readonly string[] = [ROW.floor, ROW.gateway, ROW.copy];
