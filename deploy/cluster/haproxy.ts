// The local cluster's load balancer: an HAProxy configuration in front of the
// gateway replicas, and the drain delay the replicas need to match its checks.

/** How often HAProxy asks each replica's `/ready`, and how many 503s take it out. */
export const HEALTH_CHECK = { intervalMs: 1000, fall: 2, rise: 1 } as const;

/**
 * The replicas' DRAIN_DELAY_MS: after SIGTERM a replica answers `/ready` with 503
 * but still accepts for this long. It must outlast the time HAProxy takes to mark
 * it down (interval × fall, plus one check in flight), or HAProxy sends requests
 * to a closed port and has to retry them elsewhere.
 */
export const REPLICA_DRAIN_DELAY_MS = 3000;

/** Where HAProxy listens and which replicas it balances. */
export type HaproxyOptions = {
  /** The cluster's address for clients: round-robin over the replicas. */
  port: number;
  /** HAProxy's own statistics page: each replica's state, checks and traffic. */
  statsPort: number;
  /** Loopback ports of the gateway replicas, in order (named gateway-1, gateway-2, …). */
  replicaPorts: readonly number[];
};

/** The configuration file's text; everything listens on 127.0.0.1 only. */
export function haproxyConfig({ port, statsPort, replicaPorts }: HaproxyOptions): string {
  const { intervalMs, fall, rise } = HEALTH_CHECK;
  const servers = replicaPorts.map(
    (replicaPort, i) => `  server ${replicaName(i)} 127.0.0.1:${replicaPort} check`,
  );
  return [
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    // Longer than the gateway's request deadline; @defer/@stream responses end
    // well before it too.
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-request 10s',
    // A replica that has just stopped accepting, or a reused keep-alive socket it
    // closed, costs a retry on another replica instead of an error. Retrying an
    // empty response is safe: the schema has queries only.
    '  retries 2',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response',
    '',
    'frontend gateway',
    `  bind 127.0.0.1:${port}`,
    '  option forwardfor',
    // Which replica answered: round-robin is visible from curl.
    '  http-response set-header x-served-by %[srv_name]',
    '  default_backend replicas',
    '',
    'backend replicas',
    '  balance roundrobin',
    // Readiness, not liveness: a draining replica answers 503 here while its
    // /health still says 200.
    '  option httpchk',
    '  http-check send meth GET uri /ready',
    '  http-check expect status 200',
    `  default-server inter ${intervalMs}ms fall ${fall} rise ${rise}`,
    ...servers,
    '',
    'listen stats',
    `  bind 127.0.0.1:${statsPort}`,
    '  stats enable',
    '  stats uri /',
    '  stats refresh 2s',
    '',
  ].join('\n');
}

/** The name HAProxy, the logs and the `x-served-by` header use for replica `index` (0-based). */
export function replicaName(index: number): string {
  return `gateway-${index + 1}`;
}
