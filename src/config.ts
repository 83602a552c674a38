import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ServiceName } from './errors.js';
import type { UpstreamPolicy } from './http/upstream-client.js';
import { DEFAULT_POLICIES } from './upstreams/policies.js';
import { readManifest, type TrustedDocumentManifest } from './trusted-documents.js';
import { Promotion } from './upstreams/promo/schema.js';

/**
 * The development secret used when the gateway runs on its embedded demo services.
 * It is public (it is in this file and the README): never use it with real upstreams.
 */
export const DEMO_JWT_SECRET = 'demo-secret-for-local-development-only-0123456789';

/** Faults a demo service can be told to show, to watch partial data happen. */
export const DEMO_FAULTS = ['none', 'error', 'hang', 'garbage', 'malformed'] as const;
export type DemoFault = (typeof DEMO_FAULTS)[number];
export type DemoServiceConfig = { latencyMs: number; fault: DemoFault };

const SERVICES = ['promo', 'recommendations', 'catalog'] as const satisfies readonly ServiceName[];

const port = z.coerce.number().int().min(0).max(65535);
const milliseconds = z.coerce.number().int().min(1).max(600_000);
const orZero = z.coerce.number().int().min(0).max(3_600_000);
const count = (max: number) => z.coerce.number().int().min(0).max(max);
const flag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const Env = z.object({
  PORT: port.default(4000),
  HOST: z.string().min(1).optional(),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters (HS256 key)').optional(),
  JWKS_URL: httpUrl.optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  GRAPHIQL: flag.optional(),
  INTROSPECTION: flag.optional(),
  MAX_DEPTH: z.coerce.number().int().min(1).max(100).default(10),
  MAX_ALIASES: count(1000).default(15),
  MAX_DIRECTIVES: count(1000).default(10),
  MAX_TOKENS: z.coerce.number().int().min(10).max(100_000).default(1000),
  MAX_COST: z.coerce.number().int().min(1).max(10_000_000).default(5000),
  MAX_BODY_BYTES: z.coerce.number().int().min(256).max(10_485_760).default(65_536),
  BATCHING_LIMIT: count(100).default(0),
  TRUSTED_DOCUMENTS: z.enum(['off', 'log', 'enforce']).default('off'),
  SERVER_TIMING: flag.default(true),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('homepage-bff'),
  METRICS: flag.default(true),
  TRUSTED_DOCUMENTS_MANIFEST: z.string().min(1).default('operations/manifest.json'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  REQUEST_DEADLINE_MS: milliseconds.default(1500),
  DRAIN_DELAY_MS: orZero.default(0),
  SHUTDOWN_TIMEOUT_MS: milliseconds.default(10_000),
  HEADERS_TIMEOUT_MS: milliseconds.default(10_000),
  REQUEST_TIMEOUT_MS: milliseconds.default(30_000),
  KEEP_ALIVE_TIMEOUT_MS: milliseconds.default(5_000),
  PROMO_CACHE_TTL_MS: orZero.default(30_000),
  PROMO_STALE_WHILE_REVALIDATE_MS: orZero.default(30_000),
  PROMO_STALE_IF_ERROR_MS: orZero.default(300_000),
  CATALOG_CACHE_TTL_MS: orZero.default(60_000),
  CATALOG_CACHE_MAX_ENTRIES: count(1_000_000).default(10_000),
  HOUSE_BANNERS_FILE: z.string().min(1).optional(),
  RECOMMENDATIONS_FALLBACK: z.enum(['popular', 'none']).default('popular'),
});

/** `<SERVICE>_…` variables, read once per upstream with that service's defaults. */
const serviceEnv = (defaults: UpstreamPolicy) =>
  z.object({
    URL: httpUrl.optional(),
    TIMEOUT_MS: milliseconds.default(defaults.timeoutMs),
    RETRIES: count(5).default(defaults.retries),
    BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(defaults.breaker.threshold),
    BREAKER_HALF_OPEN_MS: milliseconds.default(defaults.breaker.halfOpenAfterMs),
  });

/** `DEMO_<SERVICE>_…` variables. */
const DemoEnv = z.object({
  LATENCY_MS: orZero.default(0),
  FAULT: z.enum(DEMO_FAULTS).default('none'),
});

/** Everything the process needs, validated. */
export type Config = {
  port: number;
  /** Interface to listen on; `undefined` is Node's default (every interface, IPv6 and IPv4). */
  host: string | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** `NODE_ENV=production`: GraphiQL and introspection off, CSRF prevention on. */
  production: boolean;
  auth: AuthConfig;
  security: SecurityConfig;
  /** `Server-Timing` on responses; Prometheus metrics at /metrics. */
  observability: {
    serverTiming: boolean;
    metrics: boolean;
    /** OTLP/HTTP collector; tracing is off without it. */
    otlpEndpoint: string | undefined;
    serviceName: string;
  };
  /** Every response goes out by then, with whatever resolved. */
  requestDeadlineMs: number;
  /** After SIGTERM: how long `/ready` says 503 before the server stops accepting. */
  drainDelayMs: number;
  /** After SIGTERM: the longest in-flight requests may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** Client connections: time to send headers, a whole request, and idle keep-alive. */
  server: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  /** Upstream base URLs, or `null` to start the embedded demo services instead. */
  upstreamUrls: Record<ServiceName, string> | null;
  policies: Record<ServiceName, UpstreamPolicy>;
  promoCache: PromoCacheConfig;
  catalogCache: { ttlMs: number; maxEntries: number };
  fallbacks: FallbackConfig;
  /** Latency and faults of the demo services (unused with real upstreams). */
  demo: Record<ServiceName, DemoServiceConfig>;
};

export type PromoCacheConfig = {
  /** Freshness when the promo service sends no Cache-Control max-age; 0: do not cache. */
  ttlMs: number;
  /** Past freshness, serve the old value at once and refresh in the background, this long. */
  staleWhileRevalidateMs: number;
  /** Past freshness, serve the old value when the promo service fails, this long. */
  staleIfErrorMs: number;
};

/** How tokens are verified: `secret` (HS256) or `jwksUrl`, never both. */
export type AuthConfig = {
  secret: string | null;
  jwksUrl: string | null;
  issuer: string | undefined;
  audience: string | undefined;
};

/** What a request may ask for before anything executes. */
export type SecurityConfig = {
  graphiql: boolean;
  introspection: boolean;
  csrfPrevention: boolean;
  /** "Did you mean …?" in validation errors: helpful in development, a map in production. */
  fieldSuggestions: boolean;
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxCost: number;
  maxBodyBytes: number;
  /** Operations per batched request; 0: batching off. */
  batchingLimit: number;
  trustedDocuments: { mode: 'off' | 'log' | 'enforce'; manifest: TrustedDocumentManifest };
};

export type FallbackConfig = {
  /** Banners to show when promo has nothing fresh or stale; `null`: none (field is null). */
  houseBanners: Promotion[] | null;
  /** What a signed-in user sees when their personal picks fail. */
  recommendations: 'popular' | 'none';
};

/** The configuration was unusable; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment. The only reader of `process.env`. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as shells and .env files usually intend.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const problems: string[] = [];
  const parse = <T extends z.ZodType>(schema: T, input: unknown, prefix = ''): z.infer<T> => {
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      problems.push(`  ${prefix}${String(issue.path[0])}: ${issue.message}`);
    }
    return undefined as z.infer<T>;
  };
  const prefixed = (prefix: string) =>
    Object.fromEntries(
      Object.entries(present)
        .filter(([name]) => name.startsWith(prefix))
        .map(([name, value]) => [name.slice(prefix.length), value]),
    );

  const e = parse(Env, present);
  const services = Object.fromEntries(
    SERVICES.map((service) => {
      const prefix = `${service.toUpperCase()}_`;
      return [service, parse(serviceEnv(DEFAULT_POLICIES[service]), prefixed(prefix), prefix)];
    }),
  ) as Record<ServiceName, z.infer<ReturnType<typeof serviceEnv>>>;
  const demo = Object.fromEntries(
    SERVICES.map((service) => {
      const prefix = `DEMO_${service.toUpperCase()}_`;
      const parsed = parse(DemoEnv, prefixed(prefix), prefix);
      return [service, parsed && { latencyMs: parsed.LATENCY_MS, fault: parsed.FAULT }];
    }),
  ) as Record<ServiceName, DemoServiceConfig>;

  const urls = SERVICES.map((service) => services[service]?.URL);
  const set = urls.filter((url) => url !== undefined).length;
  if (set !== 0 && set !== SERVICES.length) {
    const missing = SERVICES.filter((_, i) => urls[i] === undefined).map(
      (service) => `${service.toUpperCase()}_URL`,
    );
    problems.push(
      `  ${missing.join(', ')}: set all of PROMO_URL, RECOMMENDATIONS_URL, CATALOG_URL, or none to run the demo services (missing: ${missing.join(', ')})`,
    );
  }
  if (set === SERVICES.length && e && e.JWT_SECRET === undefined && e.JWKS_URL === undefined) {
    problems.push('  JWT_SECRET: is required (or JWKS_URL) when real upstreams are configured');
  }
  if (e && e.JWT_SECRET !== undefined && e.JWKS_URL !== undefined) {
    problems.push('  JWKS_URL: set JWT_SECRET or JWKS_URL, not both');
  }
  const houseBanners = e?.HOUSE_BANNERS_FILE
    ? readHouseBanners(e.HOUSE_BANNERS_FILE, problems)
    : null;
  const manifest = e
    ? loadManifest(e.TRUSTED_DOCUMENTS_MANIFEST, e.TRUSTED_DOCUMENTS, problems)
    : {};
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }

  const policies = Object.fromEntries(
    SERVICES.map((service) => {
      const s = services[service];
      const defaults = DEFAULT_POLICIES[service];
      const policy: UpstreamPolicy = {
        ...defaults,
        timeoutMs: s.TIMEOUT_MS,
        retries: s.RETRIES,
        breaker: { threshold: s.BREAKER_THRESHOLD, halfOpenAfterMs: s.BREAKER_HALF_OPEN_MS },
      };
      return [service, policy];
    }),
  ) as Record<ServiceName, UpstreamPolicy>;
  const [promo, recommendations, catalog] = urls;
  const production = e.NODE_ENV === 'production';

  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    production,
    auth: {
      secret: e.JWKS_URL ? null : (e.JWT_SECRET ?? DEMO_JWT_SECRET),
      jwksUrl: e.JWKS_URL ?? null,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
    },
    observability: {
      serverTiming: e.SERVER_TIMING,
      metrics: e.METRICS,
      otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: e.OTEL_SERVICE_NAME,
    },
    security: {
      graphiql: e.GRAPHIQL ?? !production,
      introspection: e.INTROSPECTION ?? !production,
      csrfPrevention: production,
      fieldSuggestions: !production,
      maxDepth: e.MAX_DEPTH,
      maxAliases: e.MAX_ALIASES,
      maxDirectives: e.MAX_DIRECTIVES,
      maxTokens: e.MAX_TOKENS,
      maxCost: e.MAX_COST,
      maxBodyBytes: e.MAX_BODY_BYTES,
      batchingLimit: e.BATCHING_LIMIT,
      trustedDocuments: { mode: e.TRUSTED_DOCUMENTS, manifest },
    },
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    drainDelayMs: e.DRAIN_DELAY_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    server: {
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    },
    upstreamUrls: promo && recommendations && catalog ? { promo, recommendations, catalog } : null,
    policies,
    promoCache: {
      ttlMs: e.PROMO_CACHE_TTL_MS,
      staleWhileRevalidateMs: e.PROMO_STALE_WHILE_REVALIDATE_MS,
      staleIfErrorMs: e.PROMO_STALE_IF_ERROR_MS,
    },
    catalogCache: { ttlMs: e.CATALOG_CACHE_TTL_MS, maxEntries: e.CATALOG_CACHE_MAX_ENTRIES },
    fallbacks: { houseBanners, recommendations: e.RECOMMENDATIONS_FALLBACK },
    demo,
  };
}

/** The trusted-document manifest; a missing file is an empty one only when the mode is `off`. */
function loadManifest(
  path: string,
  mode: 'off' | 'log' | 'enforce',
  problems: string[],
): TrustedDocumentManifest {
  if (!existsSync(path)) {
    if (mode !== 'off') {
      problems.push(`  TRUSTED_DOCUMENTS_MANIFEST: ${path} does not exist (run npm run documents)`);
    }
    return {};
  }
  try {
    return readManifest(path);
  } catch (error) {
    problems.push(`  TRUSTED_DOCUMENTS_MANIFEST: ${(error as Error).message}`);
    return {};
  }
}

/** Reads the house banners, validated like promo's own payload; problems are collected. */
function readHouseBanners(path: string, problems: string[]): Promotion[] | null {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.push(
      `  HOUSE_BANNERS_FILE: cannot read ${path} as JSON (${(error as Error).message})`,
    );
    return null;
  }
  const parsed = z.array(Promotion).min(1).safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') ?? '';
    problems.push(
      `  HOUSE_BANNERS_FILE: ${path} is not a non-empty list of promotions (at ${where || 'the top'})`,
    );
    return null;
  }
  return parsed.data;
}
