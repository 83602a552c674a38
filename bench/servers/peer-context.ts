// What the peer servers (apollo.ts, mercurius.ts) share: the gateway's own
// context factory, wired from the environment as main.ts wires yoga's, and the
// bridge from a Node request to the Fetch Request that factory reads.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createViewerVerifier } from '../../src/auth.js';
import { createServices } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createContextFactory, type GatewayContext } from '../../src/context.js';
import { silentLogger } from '../../src/logger.js';
import { createRequestRecords, silentSink } from '../../src/observability/request-record.js';
import { createTracing } from '../../src/observability/tracing.js';

/** The environment's config (every <SERVICE>_URL required) and a context factory built from it. */
export function peerSetup(): {
  config: Config;
  contextFor: ReturnType<typeof createContextFactory>;
} {
  const config = loadConfig();
  if (!config.upstreamUrls) throw new Error('set every <SERVICE>_URL');
  const contextFor = createContextFactory({
    ...createServices({ ...config, upstreamUrls: config.upstreamUrls, logger: silentLogger }),
    fallbacks: config.fallbacks,
    verifyViewer: createViewerVerifier({ ...config.auth, logger: silentLogger }),
    records: createRequestRecords({
      requestDeadlineMs: config.requestDeadlineMs,
      metrics: silentSink,
      tracer: createTracing({}).tracer,
    }),
    catalogTimeoutMs: config.policies.catalog.timeoutMs,
  });
  return { config, contextFor };
}

/**
 * The factory reads headers and a cancellation signal: gives it the same from
 * Node's request, aborted when the response closes unfinished.
 */
export function contextForNodeRequest(
  contextFor: ReturnType<typeof createContextFactory>,
  req: IncomingMessage,
  res: ServerResponse,
  origin: string,
): Promise<GatewayContext> {
  const aborted = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) aborted.abort();
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
  }
  return contextFor({ request: new Request(`${origin}/`, { headers, signal: aborted.signal }) });
}
