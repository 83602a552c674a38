/**
 * The development secret used when the gateway runs on its embedded demo services.
 * It is public (it is in this file and in docs/operating.md): never use it with real upstreams.
 */
export const DEMO_JWT_SECRET = 'demo-secret-for-local-development-only-0123456789';

/** Faults a demo service can be told to show, to watch partial data happen. */
export const DEMO_FAULTS = ['none', 'error', 'hang', 'garbage', 'malformed'] as const;
export type DemoFault = (typeof DEMO_FAULTS)[number];
export type DemoServiceConfig = { latencyMs: number; fault: DemoFault };
