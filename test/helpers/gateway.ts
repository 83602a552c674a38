import { readFileSync } from 'node:fs';
import { afterEach } from 'vitest';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/app.js';
import { signToken } from '../../src/auth.js';
import { loadConfig, type Config } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import type { UpstreamPolicy } from '../../src/upstreams/policy.js';
import {
  perService,
  perServiceAsync,
  type PerService,
  type ServiceName,
} from '../../src/upstreams/services.js';
import { catalogHandler, promoHandler, recommendationsHandler } from './fixtures.js';
import { startUpstream, type Handler, type Upstream } from './upstream.js';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256!';

export type GraphQLResult = {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, any> | null; // eslint-disable-line @typescript-eslint/no-explicit-any -- test seam: JSON of any shape
    errors?: Array<{
      message: string;
      path?: Array<string | number>;
      extensions?: Record<string, unknown>;
    }>;
    extensions?: Record<string, unknown>;
  };
};

export type TestBed = {
  gateway: Gateway;
  upstreams: PerService<Upstream>;
  /** POSTs a GraphQL request through `gateway.fetch`. */
  query(
    query: string,
    options?: { variables?: Record<string, unknown>; authorization?: string },
  ): Promise<GraphQLResult>;
  /** Any request to `/graphql` (or `path`), as a client would send it. */
  request(init: RequestInit & { path?: string }): Promise<GraphQLResult>;
  tokenFor(userId: string): Promise<string>;
  close(): Promise<void>;
};

/** Tunable parts of a test gateway; everything else is the production default. */
export type TestGatewayOverrides = {
  /** Shorthand for `policies.<service>.timeoutMs`; 500 ms unless given. */
  timeoutsMs?: Partial<Record<ServiceName, number>>;
  policies?: Partial<Record<ServiceName, Partial<UpstreamPolicy>>>;
  requestDeadlineMs?: number;
  promoCache?: Partial<Config['promoCache']>;
  catalogCache?: Partial<Config['catalogCache']>;
  popularPicksTtlMs?: number;
  fallbacks?: Partial<Config['fallbacks']>;
  security?: Partial<Omit<Config['security'], 'trustedDocuments'>> & {
    trustedDocuments?: Partial<Config['security']['trustedDocuments']>;
  };
  auth?: Partial<Config['auth']>;
  observability?: Partial<Config['observability']>;
  compressionMinBytes?: number;
  persistedQueryStore?: GatewayOptions['persistedQueryStore'];
  logger?: Logger;
  redisConnection?: GatewayOptions['redisConnection'];
  rateLimiter?: GatewayOptions['rateLimiter'];
  metrics?: GatewayOptions['metrics'];
};

/** Gateway options for tests: production defaults (from `loadConfig({})`) plus overrides. */
export function testGatewayOptions(
  upstreamUrls: PerService<string>,
  overrides: TestGatewayOverrides = {},
): GatewayOptions {
  const defaults = loadConfig({});
  const policy = (service: ServiceName): UpstreamPolicy => ({
    ...defaults.policies[service],
    timeoutMs: overrides.timeoutsMs?.[service] ?? 500,
    ...overrides.policies?.[service],
  });
  return {
    upstreamUrls,
    policies: perService<PerService<UpstreamPolicy>>(policy),
    requestDeadlineMs: overrides.requestDeadlineMs ?? 5000,
    auth: {
      secret: TEST_SECRET,
      jwksUrl: null,
      issuer: undefined,
      audience: undefined,
      ...overrides.auth,
    },
    security: {
      ...defaults.security,
      ...overrides.security,
      trustedDocuments: {
        ...defaults.security.trustedDocuments,
        ...overrides.security?.trustedDocuments,
      },
    },
    observability: { ...defaults.observability, ...overrides.observability },
    promoCache: { ...defaults.promoCache, ...overrides.promoCache },
    catalogCache: { ...defaults.catalogCache, ...overrides.catalogCache },
    popularPicksTtlMs: overrides.popularPicksTtlMs ?? defaults.popularPicksTtlMs,
    fallbacks: { ...defaults.fallbacks, ...overrides.fallbacks },
    compressionMinBytes: overrides.compressionMinBytes ?? defaults.compressionMinBytes,
    ...(overrides.persistedQueryStore && { persistedQueryStore: overrides.persistedQueryStore }),
    logger: overrides.logger ?? silentLogger,
    redisConnection: overrides.redisConnection ?? null,
    rateLimiter: overrides.rateLimiter ?? null,
    ...(overrides.metrics && { metrics: overrides.metrics }),
  };
}

/** The three upstreams on loopback, each answering with the healthy fixtures unless `handlers` gives it one. */
export function startUpstreams(
  handlers: Partial<Record<ServiceName, Handler>> = {},
): Promise<PerService<Upstream>> {
  const healthy: PerService<Handler> = {
    promo: promoHandler(),
    recommendations: recommendationsHandler(),
    catalog: catalogHandler(),
  };
  return perServiceAsync((service) => startUpstream(handlers[service] ?? healthy[service]));
}

/**
 * A gateway wired to three real loopback upstreams. Each upstream answers with
 * the healthy fixtures unless a handler (or a ready URL) is given for it.
 */
export async function startTestBed(
  options: TestGatewayOverrides & {
    handlers?: Partial<Record<ServiceName, Handler>>;
    urls?: Partial<Record<ServiceName, string>>;
  } = {},
): Promise<TestBed> {
  const upstreams = await startUpstreams(options.handlers);
  const gateway = createGateway(
    testGatewayOptions(
      perService<PerService<string>>(
        (service) => options.urls?.[service] ?? upstreams[service].url,
      ),
      options,
    ),
  );

  return {
    gateway,
    upstreams,
    async query(query, { variables, authorization } = {}) {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
      };
      if (authorization !== undefined) headers.authorization = authorization;
      const response = await gateway.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, headers: response.headers, body: await response.json() };
    },
    async request({ path = '/graphql', ...init }) {
      const response = await gateway.fetch(`http://gateway.test${path}`, init);
      const text = await response.text();
      let body: GraphQLResult['body'];
      try {
        body = JSON.parse(text) as GraphQLResult['body'];
      } catch {
        body = { errors: [{ message: `(not JSON) ${text.slice(0, 200)}` }] };
      }
      return { status: response.status, headers: response.headers, body };
    },
    tokenFor: (userId) => signToken(TEST_SECRET, userId),
    close: async () => {
      await gateway.dispose();
      await Promise.all(Object.values(upstreams).map((upstream) => upstream.close()));
    },
  };
}

/**
 * For a test file: returns a `startTestBed` whose beds are closed after each test,
 * so a failing assertion never leaks servers into the next test.
 */
export function useTestBeds(): typeof startTestBed {
  const open: TestBed[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((bed) => bed.close()));
  });
  return async (options) => {
    const bed = await startTestBed(options);
    open.push(bed);
    return bed;
  };
}

/** The web client's own home page operation, as its trusted document holds it. */
export const HOMEPAGE_QUERY = readFileSync(
  new URL('../../operations/web/Homepage.graphql', import.meta.url),
  'utf8',
);
