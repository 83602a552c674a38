import proxyAddr from 'proxy-addr';
import { z } from 'zod';
import { DEMO_FAULTS, DEMO_JWT_SECRET } from './demo/settings.js';
import { readHouseBanners } from './fallbacks/house-banners.js';
import { readUpstreamTls, UpstreamTlsError } from './outbound/upstream-tls.js';
import { parseRedisUrl } from './redis/redis-url.js';
import { parseForwardHeaders } from './outbound/forward-headers.js';
import { loadManifest } from './trusted-documents.js';
import type { UpstreamPolicy } from './upstreams/policy.js';
import { UPSTREAMS } from './upstreams/registry.js';
import { perService, SERVICES, type PerService, type ServiceName } from './upstreams/services.js';

// The environment, declared once: every variable with its type, default and
// meaning (docs/configuration.md is generated from these descriptions: `npm run
// docs:config`), and the `Config` the process runs with inferred from it.

/** Attaches a variable's meaning (for docs/configuration.md) and, without a default, what unset means. */
const doc = <T extends z.ZodType>(schema: T, description: string, unset = 'unset'): T =>
  schema.meta({ description, unset });

const port = z.coerce.number().int().min(0).max(65535);
const milliseconds = z.coerce.number().int().min(1).max(600_000);
const orZero = z.coerce.number().int().min(0).max(3_600_000);
const count = (max: number) => z.coerce.number().int().min(0).max(max);
const flag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** Variables that are not about one upstream service. */
const GlobalEnv = z.object({
  PORT: doc(port.default(4000), 'port to listen on'),
  HOST: doc(
    z.string().min(1).optional(),
    'interface to listen on, e.g. `127.0.0.1`',
    'all interfaces',
  ),
  JWT_SECRET: doc(
    z.string().min(32, 'must be at least 32 characters (HS256 key)').optional(),
    'HS256 key (≥ 32 characters) that signs user tokens; **required** with real upstreams',
    'demo secret (demo mode only)',
  ),
  LOG_LEVEL: doc(
    z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    '`debug`, `info`, `warn` or `error`',
  ),
  NODE_ENV: doc(
    z.enum(['development', 'production', 'test']).default('development'),
    '`production` turns GraphiQL and introspection off, CSRF prevention on and field suggestions off',
  ),
  GRAPHIQL: doc(flag.optional(), '`true`/`false`: serve GraphiQL', 'on, off in production'),
  INTROSPECTION: doc(
    flag.optional(),
    '`true`/`false`: allow introspection',
    'on, off in production',
  ),
  JWKS_URL: doc(
    httpUrl.optional(),
    "verify tokens with the identity provider's published keys (RS256, PS256, ES256, ES384, EdDSA) instead of `JWT_SECRET`; never both. Keys kept 10 min, unknown `kid` refetched at most every 30 s, 1.5 s fetch timeout; an unreachable endpoint answers 503 `AUTH_UNAVAILABLE`",
  ),
  JWT_ISSUER: doc(z.string().min(1).optional(), 'when set, tokens must carry this `iss`'),
  JWT_AUDIENCE: doc(z.string().min(1).optional(), 'when set, tokens must carry this `aud`'),
  MAX_DEPTH: doc(
    z.coerce.number().int().min(1).max(100).default(10),
    'deepest selection (the home page needs 5)',
  ),
  MAX_ALIASES: doc(
    count(1000).default(15),
    'aliases per operation: enough for a page, too few to multiply upstream calls',
  ),
  MAX_DIRECTIVES: doc(count(1000).default(10), 'directives per operation'),
  MAX_TOKENS: doc(
    z.coerce.number().int().min(10).max(100_000).default(1000),
    'lexer tokens per document (the web home page query is about 60)',
  ),
  MAX_COST: doc(
    z.coerce.number().int().min(1).max(10_000_000).default(5000),
    'GraphQL Armor cost (objects 2, scalars 1, ×1.5 per level)',
  ),
  MAX_BODY_BYTES: doc(
    z.coerce.number().int().min(256).max(10_485_760).default(65_536),
    'request body limit: 413 above it, 411 for a body without `Content-Length`',
  ),
  BATCHING_LIMIT: doc(
    count(100).default(0),
    'operations per batched (array) request; `0` refuses batches',
  ),
  TRUSTED_DOCUMENTS: doc(
    z.enum(['off', 'log', 'enforce']).default('off'),
    '`off`: any operation; `log`: any, logging those not in the manifest; `enforce`: only `documentId`s from the manifest (recommended in production once clients send ids)',
  ),
  TRUSTED_DOCUMENTS_MANIFEST: doc(
    z.string().min(1).default('operations/manifest.json'),
    "manifests, comma- or colon-separated (e.g. web's and mobile's): this project's (`npm run documents`), graphql-codegen client-preset's `persisted-documents.json`, Relay's `persisted_queries.json` or Apollo's `persisted-query-manifest.json`",
  ),
  APQ_CACHE_MAX_BYTES: doc(
    count(1_073_741_824).default(8_388_608),
    'automatic persisted queries: documents registered by clients (hash plus text) are kept in memory up to this many bytes, least recently used dropped first (and in Redis for a day when `REDIS_URL` is set); `0` turns APQ off (unknown hashes get `PersistedQueryNotSupported`, so clients send the text). Never used with `TRUSTED_DOCUMENTS=enforce`',
  ),
  APQ_REGISTRATIONS_PER_MINUTE: doc(
    count(1_000_000).default(300),
    'new automatic persisted queries registered per minute (process-wide); past it, queries still run but are not stored, so junk cannot churn the store',
  ),
  APQ_MAX_DOCUMENT_BYTES: doc(
    z.coerce.number().int().min(256).max(10_485_760).default(16_384),
    'largest document automatic persisted queries register, in bytes of the text as sent (comments and whitespace count); a larger registration is refused with `PERSISTED_QUERY_TOO_LARGE` (the same query without its hash still runs). 16 KiB is several times the largest page query',
  ),
  APQ_REGISTRATIONS_PER_CLIENT_PER_MINUTE: doc(
    count(1_000_000).default(30),
    "new automatic persisted queries one client address registers per minute (`TRUSTED_PROXIES` decides the address), before the process-wide budget: one client cannot spend everyone's budget. A real client registers its few operations once",
  ),
  CORS_ORIGINS: doc(
    z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      )
      .pipe(
        z.array(
          z
            .string()
            .regex(
              /^(\*|https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?)$/i,
              'must be an origin (`https://app.example.com`), a subdomain wildcard (`https://*.example.com`) or `*`',
            ),
        ),
      )
      .optional(),
    'browser origins allowed to call the gateway, comma-separated: exact origins (`https://shop.example.com`) or subdomain wildcards (`https://*.example.com`), with credentials; `*`: any origin, without credentials',
    'none in production; any origin without credentials otherwise',
  ),
  COMPRESSION_MIN_BYTES: doc(
    count(104_857_600).default(1024),
    'gzip or brotli (per `Accept-Encoding`) for JSON and HTML answers at least this large; below it the headers cost more than they save. Streamed `@defer`/`@stream` parts are never compressed. `0` turns compression off',
  ),
  CLIENT_NAMES_MAX: doc(
    count(1000).default(30),
    'client names (`apollographql-client-name`, `graphql-client-name`) kept as metric labels: the first this many seen; later ones count as `other`',
  ),
  HEADERS_TIMEOUT_MS: doc(
    milliseconds.default(10_000),
    'how long a client may take to send its request headers',
  ),
  REQUEST_TIMEOUT_MS: doc(
    milliseconds.default(30_000),
    'how long a client may take to send a whole request',
  ),
  KEEP_ALIVE_TIMEOUT_MS: doc(
    milliseconds.default(5_000),
    'how long an idle keep-alive socket stays open',
  ),
  SERVER_TIMING: doc(
    flag.default(true),
    '`Server-Timing` header on every non-incremental response',
  ),
  METRICS: doc(flag.default(true), 'Prometheus metrics at `GET /metrics`'),
  SCHEMA_USAGE: doc(
    flag.default(true),
    '`true`/`false`: count the schema coordinates (`Type.field`) each operation selects, per client name and version, as `bff_schema_field_requests_total` (read by `npm run schema:check -- --usage`), and log the first use of a deprecated field by each client version',
  ),
  METRICS_PORT: doc(
    port.optional(),
    'port serving `GET /metrics` on its own, apart from the gateway: never public, never shed, never rate limited (the main port then answers `/metrics` with 404). Open it to the scraper only',
    '`9464` in production; the main port otherwise',
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: doc(
    httpUrl.optional(),
    'OTLP/HTTP collector (e.g. `http://otel-collector:4318`); tracing is off without it',
  ),
  OTEL_SERVICE_NAME: doc(
    z.string().min(1).default('homepage-bff'),
    'the service name on exported spans. Trace sampling follows the standard `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (e.g. `parentbased_traceidratio` and `0.1` for one trace in ten; default `parentbased_always_on`), read by the OpenTelemetry SDK itself',
  ),
  REQUEST_DEADLINE_MS: doc(
    milliseconds.default(1500),
    'every response goes out by then with what resolved; each upstream call gets min(its timeout, time left), sent to it as `x-request-budget-ms`. 1.5 s keeps a home page interactive while leaving room for one retry',
  ),
  PROMO_CACHE_TTL_MS: doc(
    orZero.default(30_000),
    'promo freshness when the service sends no `Cache-Control` max-age (its `s-maxage`/`max-age` win; `no-store` is honoured). Campaigns change in minutes, not seconds; `0` disables',
  ),
  PROMO_STALE_WHILE_REVALIDATE_MS: doc(
    orZero.default(30_000),
    'past freshness, serve the old banners at once and refresh in the background, this long',
  ),
  PROMO_STALE_IF_ERROR_MS: doc(
    orZero.default(300_000),
    'past freshness, serve the last good banners when promo fails, this long: a 5-minute-old banner beats no banner',
  ),
  CATALOG_CACHE_TTL_MS: doc(
    orZero.default(60_000),
    'how long book details are shared across requests: prices change rarely, and a minute bounds staleness; `0` disables',
  ),
  CATALOG_CACHE_MAX_ENTRIES: doc(
    count(1_000_000).default(10_000),
    'LRU bound: a few MB for the whole bestseller list',
  ),
  POPULAR_PICKS_TTL_MS: doc(
    orZero.default(30_000),
    "how long popular picks (anonymous visitors' recommendations) count as fresh when the recommendations service sends no `Cache-Control` max-age: bounds how long a cached anonymous page may show them, as promo's freshness does for banners; `0`: pages with popular picks are not cached",
  ),
  PAGE_CACHE_TTL_MS: doc(
    orZero.default(10_000),
    'anonymous page cache: the longest a whole answer is reused (never longer than the freshest data in it: promo, books, popular picks). 10 s keeps hits above 99% for any page asked for more than once a second, while a changed campaign or price reaches every visitor within seconds of its own cache; `0` disables the page cache',
  ),
  PAGE_CACHE_STALE_WHILE_REVALIDATE_MS: doc(
    orZero.default(10_000),
    "past a page's lifetime, serve it at once and refresh it in the background (one refresh at a time per page), this long; also sent as `stale-while-revalidate`",
  ),
  PAGE_CACHE_MAX_BYTES: doc(
    z.coerce.number().int().min(0).max(1_073_741_824).default(16_777_216),
    'memory bound of the page cache (everything a page keeps: keys, URLs, headers, bodies, refresh data), least recently used pages evicted first: 16 MB holds a few thousand home pages (about 3 KB each)',
  ),
  HOUSE_BANNERS_FILE: doc(
    z.string().min(1).optional(),
    "JSON list of promotions (promo's own item format, see `docs/house-banners.example.json`) shown when promo has nothing fresh or stale. Unset: the field is `null`",
  ),
  RECOMMENDATIONS_FALLBACK: doc(
    z.enum(['popular', 'none']).default('popular'),
    '`popular`: a signed-in user whose personal picks fail gets popular picks (reported); `none`: `null` plus the error',
  ),
  ADMISSION: doc(
    z.enum(['on', 'off']).default('on'),
    "`on`: a page is answered 503 `OVERLOADED` (`Retry-After: 1`), before any work, only while this process's event loop has a standing queue (CoDel: even the shortest wait over a fifth of `REQUEST_DEADLINE_MS` is over a fifth of it), or past an in-flight limit learnt from that wait (AIMD: cut while the process is saturated, its wait past a quarter of the target or its loop never idle with pages in flight growing, and pages run, or would run, past half their deadline, or past 0.8 of it while what is in flight holds steady and nothing is refused; grown back while the loop has room, or doubled while it refuses pages that all finish in time from a short queue), of which anonymous pages, which go first, may fill nine tenths; pages waiting on slow upstreams are never refused for being many, and page-cache hits, `/health`, `/ready` and `/metrics` never. Nothing to tune: the targets follow from `REQUEST_DEADLINE_MS`. `off`: nothing is shed at all, `MAX_IN_FLIGHT` and the late-start check included (benchmarks, comparisons)",
  ),
  HEAP_GROWTH_PERCENT: doc(
    count(400).default(50),
    "how far V8's old space may grow past what the last major collection kept, in percent, before the next one (`--heap-growing-percent`, set at start): `50` keeps the resident set near 1.5× the live heap, where V8's own choice lets it reach 4× under load (an RSS of 250–340 MB at 64 connections, against about 165 MB, for the same throughput: BENCHMARKS.md); `0`: V8's own choice",
  ),
  MAX_IN_FLIGHT: doc(
    count(100_000).default(1000),
    'a ceiling for memory, not for speed: past this many pages in flight (counted once their body has arrived), a page is answered 503 `OVERLOADED`. Pages waiting on upstreams cost no CPU, but each holds its buffers and state; `0`: no ceiling',
  ),
  DRAIN_DELAY_MS: doc(
    orZero.default(0),
    "after SIGTERM, how long `/ready` answers 503 before the server stops accepting; set it to your load balancer's readiness period (e.g. `5000`)",
  ),
  SHUTDOWN_TIMEOUT_MS: doc(
    milliseconds.default(10_000),
    'after the drain delay, the longest in-flight requests may take before the process exits anyway',
  ),
  REDIS_URL: doc(
    z
      .string()
      .superRefine((url, ctx) => {
        try {
          parseRedisUrl(url);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      })
      .optional(),
    '`redis://[user:pass@]host:port[/db]` (`rediss://` for TLS), `redis-sentinel://[user:pass@]host:port,host:port/<master name>[?db=N&sentinelPassword=…]` (the master a Sentinel group watches; a failover is followed) or `redis-cluster://[user:pass@]host:port,host:port` (any reachable nodes of a Redis Cluster; the rest are discovered): share the promo cache, the book cache, the anonymous page cache, APQ registrations and rate-limit counters across replicas (recommendations never). Redis is never on the critical path: slow, down or holding garbage, it is a cache miss',
    'everything in process memory (one replica)',
  ),
  REDIS_KEY_PREFIX: doc(
    z.string().min(1).max(100).default('homepage-bff:'),
    'prefix of every key, so several deployments can share one Redis (keys also carry a format version)',
  ),
  REDIS_TIMEOUT_MS: doc(
    z.coerce.number().int().min(1).max(5_000).default(50),
    'longest a page waits for Redis (any command, lock or limit check); past it, the cache is a miss and the limit is counted in memory',
  ),
  REDIS_LOCAL_TTL_MS: doc(
    orZero.default(5_000),
    'with `REDIS_URL`: how long a replica trusts its own copy of a shared value before asking Redis again (never past the value’s own freshness); the hot path pays no Redis round trip',
  ),
  RATE_LIMIT_PER_MINUTE: doc(
    count(1_000_000).default(0),
    'pages per minute per viewer (the verified user id, else the client address); over it: 429 `RATE_LIMITED` with `Retry-After`. Counted across replicas with `REDIS_URL`, per replica without it or while Redis is down (fail-open); `0` turns it off',
  ),
  RATE_LIMIT_BURST: doc(
    z.coerce.number().int().min(1).max(1_000_000).optional(),
    "pages a viewer may take at once before the steady rate applies (1 to `RATE_LIMIT_PER_MINUTE`). The limit is GCRA, a smooth rate with no window edges: within any `s` seconds a viewer gets at most `burst + s × RATE_LIMIT_PER_MINUTE / 60` pages, so never more than `RATE_LIMIT_PER_MINUTE + burst` in any minute. Lower it (e.g. a sixth of the limit) to keep that close to the limit; the default keeps a fresh viewer's allowance what a one-minute window gave",
    'RATE_LIMIT_PER_MINUTE',
  ),
  ADMIN_TOKEN: doc(
    z.string().min(32, 'must be at least 32 characters').optional(),
    'bearer token of `POST /admin/purge` (≥ 32 characters, e.g. `openssl rand -hex 32`): purges the promo, book and page caches in every replica (docs: purge)',
    'no admin endpoint: `/admin/purge` is an unknown path',
  ),
  TRUSTED_PROXIES: doc(
    z
      .string()
      .transform((list) =>
        list
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry !== ''),
      )
      .optional(),
    'comma-separated addresses or CIDRs (or `loopback`, `linklocal`, `uniquelocal`) of proxies whose `X-Forwarded-For` is believed for the client address',
    'none: the direct peer is the client',
  ),
});

/** `<SERVICE>_…` variables, read once per upstream with that service's own defaults. */
const serviceEnv = (defaults: UpstreamPolicy) =>
  z.object({
    URL: doc(
      httpUrl.optional(),
      "upstream base URL. Set **every** service's, or **none** to start the embedded demo services; a partial set is a startup error",
    ),
    TIMEOUT_MS: doc(
      milliseconds.default(defaults.timeoutMs),
      "one attempt, body included: under the deadline, so a slow upstream costs its field, not the page (recommendations get the most: they are computed per user; the catalog's batch runs after the lists, so it is short)",
    ),
    RETRIES: doc(
      count(5).default(defaults.retries),
      'extra attempts, only on connection errors and 502/503/504 (and a 429 whose `Retry-After` fits the deadline), jittered over ≤ 200 ms: rides out a dropped socket or a rolling restart without piling load on a struggling service',
    ),
    RETRY_BUDGET_PERCENT: doc(
      z.coerce.number().min(0).max(100).default(defaults.retryBudget.percent),
      'retries allowed per 100 calls to this service over a rolling 10 s (plus the floor below); past it a failed call is not retried, so a struggling service gets at most this much extra load (Google SRE retry budget); `0`: only the floor',
    ),
    RETRY_BUDGET_MIN_PER_SECOND: doc(
      z.coerce.number().min(0).max(1000).default(defaults.retryBudget.minPerSecond),
      'retries allowed per second whatever the traffic, so a quiet service can still retry a dropped connection',
    ),
    BREAKER_THRESHOLD: doc(
      z.coerce.number().int().min(1).max(1000).default(defaults.breaker.threshold),
      'consecutive failed calls (after retries) that open the circuit: five in a row is an outage, not noise',
    ),
    BREAKER_HALF_OPEN_MS: doc(
      milliseconds.default(defaults.breaker.halfOpenAfterMs),
      'how long an open circuit sends nothing before one probe: recovery is noticed within seconds',
    ),
    MAX_CONNECTIONS: doc(
      z.coerce.number().int().min(1).max(65_536).default(defaults.maxConnections),
      'most sockets open to the service at once (a keep-alive pool); a call past it waits for a socket, within its budget. Lower it only for a service that limits connections per client: each page holds one call per service at a time, so a low number throttles pages that wait on a slow service',
    ),
    CA_FILE: doc(
      z.string().min(1).optional(),
      "PEM file of the CA (or CAs) that signed an `https://` upstream's certificate, for a private CA; read at startup (unreadable: startup fails)",
      "Node's public CAs",
    ),
    CERT_FILE: doc(
      z.string().min(1).optional(),
      'PEM client certificate presented to the upstream (mutual TLS); needs `<SERVICE>_KEY_FILE`',
      'no client certificate',
    ),
    KEY_FILE: doc(z.string().min(1).optional(), 'PEM private key of `<SERVICE>_CERT_FILE`'),
    FORWARD_HEADERS: doc(
      z
        .string()
        .transform((list, ctx) => {
          try {
            return parseForwardHeaders(list);
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: (error as Error).message });
            return z.NEVER;
          }
        })
        .optional(),
      'client headers passed on to this service, comma-separated (e.g. `accept-language`); each becomes part of the page-cache key, `Vary` and the shared caches’ keys, so no visitor sees another language’s answer. Values are trimmed, lowercased and cut at 128 characters. Hop-by-hop headers, `authorization` and `cookie` are refused',
      'nothing forwarded',
    ),
  });

/** `DEMO_<SERVICE>_…` variables: the embedded demo services' behaviour. */
const DemoEnv = z.object({
  LATENCY_MS: doc(orZero.default(0), 'demo mode: delay before each demo service answers'),
  FAULT: doc(
    z.enum(DEMO_FAULTS).default('none'),
    'demo mode: `error` (503), `hang` (never answers), `garbage` (HTML), `malformed` (JSON of the wrong shape)',
  ),
});

/** The whole environment, grouped: global variables, then per service, then demo. */
const Env = GlobalEnv.extend({
  services: z.object(
    perService<PerService<ReturnType<typeof serviceEnv>>>((service) =>
      serviceEnv(UPSTREAMS[service].policy),
    ),
  ),
  demo: z.object(perService<PerService<typeof DemoEnv>>(() => DemoEnv)),
})
  .superRefine((e, ctx) => {
    const problem = (variable: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [variable], message });
    const missing = SERVICES.filter((service) => e.services[service].URL === undefined);
    const urlNames = SERVICES.map((service) => `${service.toUpperCase()}_URL`).join(', ');
    if (missing.length > 0 && missing.length < SERVICES.length) {
      const names = missing.map((service) => `${service.toUpperCase()}_URL`).join(', ');
      problem(
        names,
        `set all of ${urlNames}, or none to run the demo services (missing: ${names})`,
      );
    }
    if (missing.length === 0 && e.JWT_SECRET === undefined && e.JWKS_URL === undefined) {
      problem('JWT_SECRET', 'is required (or JWKS_URL) when real upstreams are configured');
    }
    // The demo secret is published: with real upstreams, anyone could mint tokens.
    if (missing.length === 0 && e.JWT_SECRET === DEMO_JWT_SECRET) {
      problem(
        'JWT_SECRET',
        'is the published demo secret: set a secret of your own with real upstreams',
      );
    }
    if (e.JWT_SECRET !== undefined && e.JWKS_URL !== undefined) {
      problem('JWKS_URL', 'set JWT_SECRET or JWKS_URL, not both');
    }
    for (const service of SERVICES) {
      const { URL: url, CA_FILE, CERT_FILE, KEY_FILE } = e.services[service];
      const tlsFile = [CA_FILE && 'CA_FILE', CERT_FILE && 'CERT_FILE', KEY_FILE && 'KEY_FILE'].find(
        Boolean,
      );
      if (tlsFile && url?.startsWith('http:')) {
        // TLS files with a plain-HTTP upstream would look secure and not be.
        problem(
          `${service.toUpperCase()}_${tlsFile}`,
          `needs an https:// ${service.toUpperCase()}_URL`,
        );
      }
    }
    if (e.RATE_LIMIT_BURST !== undefined && e.RATE_LIMIT_BURST > e.RATE_LIMIT_PER_MINUTE) {
      problem(
        'RATE_LIMIT_BURST',
        'must be at most RATE_LIMIT_PER_MINUTE (a burst is part of the limit)',
      );
    }
    try {
      proxyAddr.compile(e.TRUSTED_PROXIES ?? []); // the parser that will use them
    } catch (error) {
      problem('TRUSTED_PROXIES', (error as Error).message);
    }
  })
  .transform((e, ctx) => {
    // Files named by the environment are read here, so a bad one stops startup
    // together with every other problem.
    const fromFile = <T>(variable: string, read: () => T, fallback: T): T => {
      try {
        return read();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        ctx.addIssue({ code: 'custom', path: [variable], message });
        return fallback;
      }
    };
    // An upstream's TLS files; a problem is reported under the variable it is about.
    const upstreamTls = (service: ServiceName) => {
      const s = e.services[service];
      try {
        return readUpstreamTls(s);
      } catch (error) {
        const file = error instanceof UpstreamTlsError ? error.file : 'CA_FILE';
        const message = error instanceof Error ? error.message : String(error);
        ctx.addIssue({ code: 'custom', path: ['services', service, file], message });
        return undefined;
      }
    };
    const production = e.NODE_ENV === 'production';
    const urls = perService<PerService<string | undefined>>((service) => e.services[service].URL);
    return {
      port: e.PORT,
      /** Interface to listen on; `undefined` is Node's default (every interface, IPv6 and IPv4). */
      host: e.HOST,
      logLevel: e.LOG_LEVEL,
      /** `NODE_ENV=production`: GraphiQL and introspection off, CSRF prevention on. */
      production,
      /** How tokens are verified: `secret` (HS256) or `jwksUrl`, never both. */
      auth: {
        secret: e.JWKS_URL ? null : (e.JWT_SECRET ?? DEMO_JWT_SECRET),
        jwksUrl: e.JWKS_URL ?? null,
        issuer: e.JWT_ISSUER,
        audience: e.JWT_AUDIENCE,
      },
      observability: {
        serverTiming: e.SERVER_TIMING,
        metrics: e.METRICS,
        /** Port of the metrics server; `null`: `/metrics` on the main port (development). */
        metricsPort: e.METRICS_PORT ?? (production ? 9464 : null),
        otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
        serviceName: e.OTEL_SERVICE_NAME,
        /** Distinct client names kept as metric labels; later ones are `other`. */
        clientNamesMax: e.CLIENT_NAMES_MAX,
        /** Count coordinates selected per client (bff_schema_field_requests_total), warn on deprecated ones. */
        schemaUsage: e.SCHEMA_USAGE,
      },
      /** Smallest JSON or HTML answer compressed; 0: compression off. */
      compressionMinBytes: e.COMPRESSION_MIN_BYTES,
      /** What a request may ask for before anything executes. */
      security: {
        graphiql: e.GRAPHIQL ?? !production,
        introspection: e.INTROSPECTION ?? !production,
        csrfPrevention: production,
        /** "Did you mean …?" in validation errors: helpful in development, a map in production. */
        fieldSuggestions: !production,
        maxDepth: e.MAX_DEPTH,
        maxAliases: e.MAX_ALIASES,
        maxDirectives: e.MAX_DIRECTIVES,
        maxTokens: e.MAX_TOKENS,
        maxCost: e.MAX_COST,
        maxBodyBytes: e.MAX_BODY_BYTES,
        /** Operations per batched request; 0: batching off. */
        batchingLimit: e.BATCHING_LIMIT,
        trustedDocuments: {
          mode: e.TRUSTED_DOCUMENTS,
          manifest: fromFile(
            'TRUSTED_DOCUMENTS_MANIFEST',
            () => loadManifest(e.TRUSTED_DOCUMENTS_MANIFEST, e.TRUSTED_DOCUMENTS),
            {},
          ),
          /** Bytes of automatic persisted queries kept in memory; 0: none registered. */
          storeMaxBytes: e.APQ_CACHE_MAX_BYTES,
          registrationsPerMinute: e.APQ_REGISTRATIONS_PER_MINUTE,
          registrationsPerClientPerMinute: e.APQ_REGISTRATIONS_PER_CLIENT_PER_MINUTE,
          /** Largest document registered (bytes as sent); larger: PERSISTED_QUERY_TOO_LARGE. */
          maxDocumentBytes: e.APQ_MAX_DOCUMENT_BYTES,
        },
        /** Browser origins allowed (exact, `https://*.example.com`, or `*` without credentials). */
        corsOrigins: e.CORS_ORIGINS ?? (production ? [] : ['*']),
      },
      /** Every response goes out by then, with whatever resolved. */
      requestDeadlineMs: e.REQUEST_DEADLINE_MS,
      /** Load shedding before any work (inbound/admission.ts): on or off, and a ceiling for memory (0: none). */
      admission: {
        enabled: e.ADMISSION === 'on',
        maxInFlight: e.MAX_IN_FLIGHT,
      },
      /** V8's old-space growth between major collections, in percent (0: V8's own). */
      heapGrowthPercent: e.HEAP_GROWTH_PERCENT,
      /** After SIGTERM: how long `/ready` says 503 before the server stops accepting. */
      drainDelayMs: e.DRAIN_DELAY_MS,
      /** After SIGTERM: the longest in-flight requests may take before the process exits anyway. */
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      /** Client connections: time to send headers, a whole request, and idle keep-alive. */
      server: {
        headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
        requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
        keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
      },
      /** Upstream base URLs, or `null` to start the embedded demo services instead. */
      upstreamUrls: everyService(urls),
      policies: perService<PerService<UpstreamPolicy>>((service) => {
        const s = e.services[service];
        return {
          ...UPSTREAMS[service].policy,
          timeoutMs: s.TIMEOUT_MS,
          retries: s.RETRIES,
          retryBudget: {
            percent: s.RETRY_BUDGET_PERCENT,
            minPerSecond: s.RETRY_BUDGET_MIN_PER_SECOND,
          },
          breaker: { threshold: s.BREAKER_THRESHOLD, halfOpenAfterMs: s.BREAKER_HALF_OPEN_MS },
          maxConnections: s.MAX_CONNECTIONS,
          tls: upstreamTls(service),
        };
      }),
      /** Client headers passed on to each service (and keyed by every cache of its answers). */
      forwardHeaders: perService<PerService<readonly string[]>>(
        (service) => e.services[service].FORWARD_HEADERS ?? [],
      ),
      /** `POST /admin/purge` (inbound/admin-purge.ts); `token` null: no such endpoint. */
      admin: { token: e.ADMIN_TOKEN ?? null },
      promoCache: {
        /** Freshness when the promo service sends no Cache-Control max-age; 0: do not cache. */
        ttlMs: e.PROMO_CACHE_TTL_MS,
        /** Past freshness, serve the old value at once and refresh in the background, this long. */
        staleWhileRevalidateMs: e.PROMO_STALE_WHILE_REVALIDATE_MS,
        /** Past freshness, serve the old value when the promo service fails, this long. */
        staleIfErrorMs: e.PROMO_STALE_IF_ERROR_MS,
      },
      catalogCache: { ttlMs: e.CATALOG_CACHE_TTL_MS, maxEntries: e.CATALOG_CACHE_MAX_ENTRIES },
      /** Shared second level for the caches and rate limits; `null`: all in process memory. */
      redis: e.REDIS_URL
        ? {
            url: e.REDIS_URL,
            keyPrefix: e.REDIS_KEY_PREFIX,
            timeoutMs: e.REDIS_TIMEOUT_MS,
            localTtlMs: e.REDIS_LOCAL_TTL_MS,
          }
        : null,
      rateLimit: {
        /** Pages per minute per viewer; 0: off. */
        perMinute: e.RATE_LIMIT_PER_MINUTE,
        /** Pages a viewer may take at once (GCRA's burst); at most `perMinute`. */
        burst: e.RATE_LIMIT_BURST ?? e.RATE_LIMIT_PER_MINUTE,
        /** Proxies whose X-Forwarded-For is believed (proxy-addr's syntax). */
        trustedProxies: e.TRUSTED_PROXIES ?? [],
      },
      /** Freshness of popular picks when their service sends no Cache-Control max-age. */
      popularPicksTtlMs: e.POPULAR_PICKS_TTL_MS,
      /** The anonymous page cache in front of yoga (inbound/page-cache.ts); `ttlMs` 0: off. */
      pageCache: {
        ttlMs: e.PAGE_CACHE_TTL_MS,
        staleWhileRevalidateMs: e.PAGE_CACHE_STALE_WHILE_REVALIDATE_MS,
        maxBytes: e.PAGE_CACHE_MAX_BYTES,
      },
      fallbacks: {
        /** Banners to show when promo has nothing fresh or stale; `null`: none (field is null). */
        houseBanners: e.HOUSE_BANNERS_FILE
          ? fromFile('HOUSE_BANNERS_FILE', () => readHouseBanners(e.HOUSE_BANNERS_FILE ?? ''), null)
          : null,
        /** What a signed-in user sees when their personal picks fail. */
        recommendations: e.RECOMMENDATIONS_FALLBACK,
      },
      /** Latency and faults of the demo services (unused with real upstreams). */
      demo: perService<PerService<{ latencyMs: number; fault: (typeof DEMO_FAULTS)[number] }>>(
        (service) => ({
          latencyMs: e.demo[service].LATENCY_MS,
          fault: e.demo[service].FAULT,
        }),
      ),
    };
  });

/** Everything the process needs, validated: inferred from the schema above. */
export type Config = z.output<typeof Env>;
export type FallbackConfig = Config['fallbacks'];
export type RedisConfig = NonNullable<Config['redis']>;

/** The configuration was unusable; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Every environment variable the gateway reads (for manifests and the docs check). */
export const CONFIG_VARIABLES: readonly string[] = [
  ...Object.keys(GlobalEnv.shape),
  ...SERVICES.flatMap((service) =>
    Object.keys(serviceEnv(UPSTREAMS[service].policy).shape).map(
      (name) => `${service.toUpperCase()}_${name}`,
    ),
  ),
  ...SERVICES.flatMap((service) =>
    Object.keys(DemoEnv.shape).map((name) => `DEMO_${service.toUpperCase()}_${name}`),
  ),
];

/** The schemas behind docs/configuration.md (src/cli/config-table.ts). */
export const ENV_SCHEMAS = { GlobalEnv, serviceEnv, DemoEnv } as const;

/** Reads and validates the environment. The only reader of `process.env`. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as shells and .env files usually intend.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const prefixed = (prefix: string) =>
    Object.fromEntries(
      Object.entries(present)
        .filter(([name]) => name.startsWith(prefix))
        .map(([name, value]) => [name.slice(prefix.length), value]),
    );
  const parsed = Env.safeParse({
    ...present,
    services: perService<PerService<object>>((service) => prefixed(`${service.toUpperCase()}_`)),
    demo: perService<PerService<object>>((service) => prefixed(`DEMO_${service.toUpperCase()}_`)),
  });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `  ${variableOf(issue.path)}: ${issue.message}`,
  );
  throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
}

// Private helpers.

/** The variable an issue is about, from its path in the grouped environment. */
function variableOf(path: readonly PropertyKey[]): string {
  const [group, service, name] = path.map(String);
  if (group === 'services') return `${service?.toUpperCase()}_${name}`;
  if (group === 'demo') return `DEMO_${service?.toUpperCase()}_${name}`;
  return group ?? '(environment)';
}

/** All services' values when every one is set, else `null`. */
function everyService<T>(values: PerService<T | undefined>): PerService<T> | null {
  return isComplete(values) ? values : null;
}

function isComplete<T>(values: PerService<T | undefined>): values is PerService<T> {
  return SERVICES.every((service) => values[service] !== undefined);
}
