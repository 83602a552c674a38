import { z } from 'zod';
import type { ServiceName } from './errors.js';

/**
 * The development secret used when the gateway runs on its embedded demo services.
 * It is public (it is in this file and the README): never use it with real upstreams.
 */
export const DEMO_JWT_SECRET = 'demo-secret-for-local-development-only-0123456789';

/** Faults a demo service can be told to show, to watch partial data happen. */
export const DEMO_FAULTS = ['none', 'error', 'hang', 'garbage', 'malformed'] as const;
export type DemoFault = (typeof DEMO_FAULTS)[number];

const SERVICES = ['promo', 'recommendations', 'catalog'] as const satisfies readonly ServiceName[];

const port = z.coerce.number().int().min(0).max(65535);
const milliseconds = z.coerce.number().int().min(1).max(60_000);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const Env = z
  .object({
    PORT: port.default(4000),
    HOST: z.string().min(1).optional(),
    PROMO_URL: httpUrl.optional(),
    RECOMMENDATIONS_URL: httpUrl.optional(),
    CATALOG_URL: httpUrl.optional(),
    PROMO_TIMEOUT_MS: milliseconds.default(800),
    RECOMMENDATIONS_TIMEOUT_MS: milliseconds.default(1000),
    CATALOG_TIMEOUT_MS: milliseconds.default(800),
    REQUEST_DEADLINE_MS: milliseconds.default(1500),
    DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(120_000).default(0),
    SHUTDOWN_TIMEOUT_MS: milliseconds.default(10_000),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters (HS256 key)').optional(),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    DEMO_PROMO_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
    DEMO_RECOMMENDATIONS_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
    DEMO_CATALOG_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
    DEMO_PROMO_FAULT: z.enum(DEMO_FAULTS).default('none'),
    DEMO_RECOMMENDATIONS_FAULT: z.enum(DEMO_FAULTS).default('none'),
    DEMO_CATALOG_FAULT: z.enum(DEMO_FAULTS).default('none'),
  })
  .superRefine((env, ctx) => {
    const urls = [env.PROMO_URL, env.RECOMMENDATIONS_URL, env.CATALOG_URL];
    const set = urls.filter((url) => url !== undefined).length;
    if (set !== 0 && set !== urls.length) {
      const missing = SERVICES.filter((_, i) => urls[i] === undefined).map(
        (service) => `${service.toUpperCase()}_URL`,
      );
      ctx.addIssue({
        code: 'custom',
        path: [missing[0] ?? 'PROMO_URL'],
        message: `set all of PROMO_URL, RECOMMENDATIONS_URL, CATALOG_URL, or none to run the demo services (missing: ${missing.join(', ')})`,
      });
    }
    if (set === urls.length && env.JWT_SECRET === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'is required when real upstreams are configured',
      });
    }
  });

export type DemoServiceConfig = { latencyMs: number; fault: DemoFault };

/** Everything the process needs, validated. */
export type Config = {
  port: number;
  /** Interface to listen on; `undefined` is Node's default (every interface, IPv6 and IPv4). */
  host: string | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  jwtSecret: string;
  timeoutsMs: Record<ServiceName, number>;
  requestDeadlineMs: number;
  /** After SIGTERM: how long `/ready` says 503 before the server stops accepting. */
  drainDelayMs: number;
  /** After SIGTERM: the longest in-flight requests may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** Upstream base URLs, or `null` to start the embedded demo services instead. */
  upstreamUrls: Record<ServiceName, string> | null;
  /** Latency and faults of the demo services (unused with real upstreams). */
  demo: Record<ServiceName, DemoServiceConfig>;
};

/** The configuration was unusable; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment. The only reader of `process.env`. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as shells and .env files usually intend.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = Env.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  ${String(issue.path[0])}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const { PROMO_URL: promo, RECOMMENDATIONS_URL: recommendations, CATALOG_URL: catalog } = e;
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    jwtSecret: e.JWT_SECRET ?? DEMO_JWT_SECRET,
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    drainDelayMs: e.DRAIN_DELAY_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    timeoutsMs: {
      promo: e.PROMO_TIMEOUT_MS,
      recommendations: e.RECOMMENDATIONS_TIMEOUT_MS,
      catalog: e.CATALOG_TIMEOUT_MS,
    },
    upstreamUrls: promo && recommendations && catalog ? { promo, recommendations, catalog } : null,
    demo: {
      promo: { latencyMs: e.DEMO_PROMO_LATENCY_MS, fault: e.DEMO_PROMO_FAULT },
      recommendations: {
        latencyMs: e.DEMO_RECOMMENDATIONS_LATENCY_MS,
        fault: e.DEMO_RECOMMENDATIONS_FAULT,
      },
      catalog: { latencyMs: e.DEMO_CATALOG_LATENCY_MS, fault: e.DEMO_CATALOG_FAULT },
    },
  };
}
