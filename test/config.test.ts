import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { DEMO_JWT_SECRET } from '../src/demo/settings.js';

const URLS = {
  PROMO_URL: 'http://promo.internal',
  RECOMMENDATIONS_URL: 'http://recs.internal:8080',
  CATALOG_URL: 'https://catalog.internal/v1',
};
const SECRET = 'x'.repeat(32);

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('runs the demo services with defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      host: undefined,
      auth: { secret: DEMO_JWT_SECRET, jwksUrl: null },
      upstreamUrls: null,
      requestDeadlineMs: 1500,
      drainDelayMs: 0,
      shutdownTimeoutMs: 10_000,
      demo: { promo: { latencyMs: 0, fault: 'none' } },
    });
  });

  it('uses real upstreams when all three URLs and a secret are set', () => {
    const config = loadConfig({
      ...URLS,
      JWT_SECRET: SECRET,
      PORT: '8080',
      HOST: '127.0.0.1',
      CATALOG_TIMEOUT_MS: '250',
    });
    expect(config.upstreamUrls).toEqual({
      promo: URLS.PROMO_URL,
      recommendations: URLS.RECOMMENDATIONS_URL,
      catalog: URLS.CATALOG_URL,
    });
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', auth: { secret: SECRET } });
    expect(config.policies.catalog.timeoutMs).toBe(250);
  });

  it('names the missing variables when only some upstream URLs are set', () => {
    const message = errorOf({ PROMO_URL: URLS.PROMO_URL, JWT_SECRET: SECRET });
    expect(message).toContain('RECOMMENDATIONS_URL');
    expect(message).toContain('CATALOG_URL');
  });

  it('requires JWT_SECRET with real upstreams: the demo secret is public', () => {
    expect(errorOf(URLS)).toMatch(/JWT_SECRET: is required/);
  });

  it('refuses the published demo secret as JWT_SECRET with real upstreams', () => {
    expect(errorOf({ ...URLS, JWT_SECRET: DEMO_JWT_SECRET })).toMatch(
      /JWT_SECRET: is the published demo secret/,
    );
    expect(loadConfig({ JWT_SECRET: DEMO_JWT_SECRET }).auth.secret).toBe(DEMO_JWT_SECRET);
  });

  it('serves metrics on METRICS_PORT, 9464 by default in production and the main port otherwise', () => {
    expect(loadConfig({}).observability.metricsPort).toBeNull();
    expect(loadConfig({ NODE_ENV: 'production' }).observability.metricsPort).toBe(9464);
    expect(loadConfig({ METRICS_PORT: '9100' }).observability.metricsPort).toBe(9100);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PROMO_URL', 'ftp://promo'],
    ['CATALOG_TIMEOUT_MS', '0'],
    ['REQUEST_DEADLINE_MS', 'soon'],
    ['DRAIN_DELAY_MS', '-1'],
    ['RECOMMENDATIONS_TIMEOUT_MS', '1.5'],
    ['JWT_SECRET', 'short'],
    ['DEMO_PROMO_FAULT', 'explode'],
    ['CATALOG_RETRIES', '-1'],
    ['RECOMMENDATIONS_BREAKER_THRESHOLD', '0'],
    ['PROMO_STALE_IF_ERROR_MS', 'forever'],
    ['RECOMMENDATIONS_FALLBACK', 'random'],
    ['HOUSE_BANNERS_FILE', '/nonexistent/banners.json'],
    ['NODE_ENV', 'staging'],
    ['JWKS_URL', 'not a url'],
    ['MAX_DEPTH', '0'],
    ['MAX_BODY_BYTES', 'lots'],
    ['TRUSTED_DOCUMENTS', 'strict'],
    ['GRAPHIQL', 'yes'],
    ['HEADERS_TIMEOUT_MS', '0'],
    ['SERVER_TIMING', 'maybe'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector'],
    ['LOG_LEVEL', 'chatty'],
    ['REDIS_URL', 'http://redis:6379'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_TIMEOUT_MS', '0'],
    ['RATE_LIMIT_PER_MINUTE', '-5'],
    ['RATE_LIMIT_BURST', '0'],
    ['PROMO_RETRY_BUDGET_PERCENT', '101'],
    ['CATALOG_RETRY_BUDGET_MIN_PER_SECOND', '-1'],
    ['PROMO_MAX_CONNECTIONS', '0'],
    ['TRUSTED_PROXIES', '10.0.0.0/33'],
    ['TRUSTED_PROXIES', 'proxy.internal'],
  ])('stops on %s=%s with a message naming the variable', (name, value) => {
    expect(errorOf({ [name]: value })).toMatch(new RegExp(`^\\s+${name}: `, 'm'));
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', PROMO_URL: '' }).port).toBe(4000);
  });

  it("reads per-service policies and falls back on each service's own defaults", () => {
    const config = loadConfig({
      CATALOG_RETRIES: '3',
      PROMO_BREAKER_THRESHOLD: '9',
      CATALOG_MAX_CONNECTIONS: '16',
    });
    expect(config.policies.catalog.retries).toBe(3);
    expect(config.policies.catalog.maxConnections).toBe(16);
    expect(config.policies.promo.breaker.threshold).toBe(9);
    expect(config.policies.recommendations).toMatchObject({
      timeoutMs: 1000,
      retries: 1,
      breaker: { threshold: 5, halfOpenAfterMs: 5000 },
      maxConnections: 1024,
    });
  });

  it('loads house banners from a file, validated like promo payloads', () => {
    const config = loadConfig({ HOUSE_BANNERS_FILE: 'docs/house-banners.example.json' });
    expect(config.fallbacks.houseBanners?.map((banner) => banner.id)).toEqual([
      'house-bestsellers',
      'house-gift-cards',
    ]);
    expect(errorOf({ HOUSE_BANNERS_FILE: 'package.json' })).toMatch(
      /HOUSE_BANNERS_FILE: package\.json is not a non-empty list of promotions/,
    );
  });

  it('takes JWT_SECRET or JWKS_URL, not both', () => {
    expect(errorOf({ JWT_SECRET: SECRET, JWKS_URL: 'https://id.example/jwks.json' })).toMatch(
      /JWKS_URL: set JWT_SECRET or JWKS_URL, not both/,
    );
    const jwks = loadConfig({ ...URLS, JWKS_URL: 'https://id.example/jwks.json' });
    expect(jwks.auth).toMatchObject({ secret: null, jwksUrl: 'https://id.example/jwks.json' });
  });

  it('needs the trusted-document manifest to log or enforce', () => {
    expect(
      errorOf({ TRUSTED_DOCUMENTS: 'enforce', TRUSTED_DOCUMENTS_MANIFEST: '/nonexistent.json' }),
    ).toMatch(/TRUSTED_DOCUMENTS_MANIFEST: \/nonexistent\.json does not exist/);
    expect(
      Object.keys(loadConfig({ TRUSTED_DOCUMENTS: 'enforce' }).security.trustedDocuments.manifest),
    ).toHaveLength(2);
  });

  it('keeps everything in process memory without REDIS_URL, and no rate limit by default', () => {
    const config = loadConfig({});
    expect(config.redis).toBeNull();
    expect(config.rateLimit).toEqual({ perMinute: 0, burst: 0, trustedProxies: [] });
  });

  it('reads Redis and the rate limit with their defaults', () => {
    const config = loadConfig({
      REDIS_URL: 'rediss://user:pass@redis.internal:6380/2',
      RATE_LIMIT_PER_MINUTE: '120',
      TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.1 ,loopback',
    });
    expect(config.redis).toEqual({
      url: 'rediss://user:pass@redis.internal:6380/2',
      keyPrefix: 'homepage-bff:',
      timeoutMs: 50,
      localTtlMs: 5000,
    });
    expect(config.rateLimit).toEqual({
      perMinute: 120,
      burst: 120,
      trustedProxies: ['10.0.0.0/8', '192.168.1.1', 'loopback'],
    });
  });

  it('takes a rate-limit burst no larger than the limit', () => {
    const config = loadConfig({ RATE_LIMIT_PER_MINUTE: '60', RATE_LIMIT_BURST: '10' });
    expect(config.rateLimit).toMatchObject({ perMinute: 60, burst: 10 });
    expect(errorOf({ RATE_LIMIT_PER_MINUTE: '60', RATE_LIMIT_BURST: '61' })).toMatch(
      /RATE_LIMIT_BURST: must be at most RATE_LIMIT_PER_MINUTE/,
    );
  });

  it("grows V8's old space by half past the live heap by default, V8's own choice at 0", () => {
    expect(loadConfig({}).heapGrowthPercent).toBe(50);
    expect(loadConfig({ HEAP_GROWTH_PERCENT: '0' }).heapGrowthPercent).toBe(0);
    expect(errorOf({ HEAP_GROWTH_PERCENT: '-5' })).toMatch(/HEAP_GROWTH_PERCENT/);
    expect(errorOf({ HEAP_GROWTH_PERCENT: 'lots' })).toMatch(/HEAP_GROWTH_PERCENT/);
  });

  it('reads each service its own retry budget', () => {
    const config = loadConfig({
      PROMO_RETRY_BUDGET_PERCENT: '20',
      PROMO_RETRY_BUDGET_MIN_PER_SECOND: '0.5',
    });
    expect(config.policies.promo.retryBudget).toEqual({ percent: 20, minPerSecond: 0.5 });
    expect(config.policies.catalog.retryBudget).toEqual({ percent: 10, minPerSecond: 1 });
  });
});
