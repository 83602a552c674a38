import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Gateway } from '../app.js';
import type { Config } from '../config.js';
import { errorBody } from '../errors/vocabulary.js';
import type { Logger } from '../logger.js';
import { ROUTES, routeOf, setRoute, type RouteTable } from './routes.js';

/**
 * One step in front of yoga, on Node's own request: it either answers the
 * request itself, and says so with a `StepAnswer`, or lets it through to the
 * next step and finally to yoga (`false`). Steps run before yoga reads the
 * body, builds a GraphQL request, verifies a token or calls anything, so what
 * they refuse or serve costs close to nothing. They run in the order given.
 */
export type FrontStep = (
  req: IncomingMessage,
  res: ServerResponse,
) => false | StepAnswer | Promise<false | StepAnswer>;

/** What a step that answered tells the request log. */
export type StepAnswer = {
  /** The error code of a refusal. */
  code?: string;
  /** A page served from the cache. */
  cache?: 'hit' | 'stale';
  requestId?: string;
  /** The step ran the request through yoga, which logged it already. */
  logged?: boolean;
};

/** Options of `createGatewayServer`. */
export type GatewayServerOptions = {
  /** Client connection limits (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS). */
  limits: Config['server'];
  /** The paths served (routes.ts); any other is a 404 before any step. Default `ROUTES`. */
  routes?: RouteTable;
  /** Steps in front of yoga, in order. Default: none. */
  steps?: FrontStep[];
  logger: Logger;
  /** Hears of each request a step answered, once it is sent (the request log). Default: none. */
  onStepAnswer?: (
    req: IncomingMessage,
    res: ServerResponse,
    answer: StepAnswer,
    durationMs: number,
  ) => void;
};

/** The gateway behind Node's HTTP server, with its front steps. It does not listen. */
export function createGatewayServer(
  gateway: Gateway,
  { limits, routes = ROUTES, steps = [], logger, onStepAnswer }: GatewayServerOptions,
): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    // Refusals before any step are logged like a step's: every request once, at info.
    const refused = (status: number, code: 'NOT_FOUND' | 'BAD_REQUEST') => {
      refuse(res, status, code);
      onStepAnswer?.(req, res, { code }, performance.now() - started);
    };
    const routed = routeOf(req.url, routes);
    if (routed === undefined) return refused(404, 'NOT_FOUND');
    // yoga builds the request's URL from Host: one that makes no URL (`[::`)
    // failed there with a 500 carrying a stack. Refused here, with a code.
    if (!isHost(req.headers.host)) return refused(400, 'BAD_REQUEST');
    // From here on, every step and yoga read the one spelling of the target.
    req.url = routed.target;
    setRoute(req, routed);
    if (!routed.frontSteps) return gateway(req, res);
    for (const step of steps) {
      const answer = await step(req, res);
      if (answer === false) continue;
      if (onStepAnswer && !answer.logged) {
        const answered = () => onStepAnswer(req, res, answer, performance.now() - started);
        if (res.writableFinished) answered();
        else res.once('finish', answered);
      }
      return;
    }
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
        // A client that went away mid-body is not a fault of ours: nobody to
        // answer, and nothing for the on-call (anyone can cause it at will).
        if (req.destroyed && !req.complete) {
          logger.debug(`Client went away before its request was read: ${String(error)}`);
          return;
        }
        // A step failed unexpectedly: the request still gets an answer.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: 'Unexpected error.' }] }));
        logger.error(`Front step failed: ${String(error)}`);
      });
    },
  );
}

// Private helpers.

function refuse(res: ServerResponse, status: number, code: 'NOT_FOUND' | 'BAD_REQUEST'): void {
  const body = errorBody(code);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** Host headers already checked: clients send a handful, so each is parsed once. */
const checkedHosts = new Map<string, boolean>();

/** A Host header yoga can build a URL from (absent is fine: yoga then uses its own). */
function isHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const known = checkedHosts.get(host);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    valid = new URL(`http://${host}/`).pathname === '/';
  } catch {
    valid = false;
  }
  // Bounded: a client inventing hosts gets them parsed each time, nothing kept.
  if (checkedHosts.size >= 64) checkedHosts.clear();
  checkedHosts.set(host, valid);
  return valid;
}
