import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Gateway } from '../app.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/**
 * One step in front of yoga, on Node's own request: it either answers the
 * request itself (and returns `true`), or lets it through to the next step and
 * finally to yoga (`false`). Steps run before yoga reads the body, builds a
 * GraphQL request, verifies a token or calls anything, so what they refuse or
 * serve costs close to nothing. They run in the order given.
 */
export type FrontStep = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/** Options of `createGatewayServer`. */
export type GatewayServerOptions = {
  /** Client connection limits (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS). */
  limits: Config['server'];
  /** Steps in front of yoga, in order. Default: none. */
  steps?: FrontStep[];
  logger: Logger;
};

/** The gateway behind Node's HTTP server, with its front steps. It does not listen. */
export function createGatewayServer(
  gateway: Gateway,
  { limits, steps = [], logger }: GatewayServerOptions,
): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    for (const step of steps) if (await step(req, res)) return;
    await gateway(req, res);
  };
  // Slow or idle clients must not hold sockets forever. Node checks these limits
  // every `connectionsCheckingInterval` (30 s by default): check every second.
  return createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        // A step failed unexpectedly: the request still gets an answer.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'Unexpected error.' }] }));
        logger.error(`Front step failed: ${String(error)}`);
      });
    },
  );
}
