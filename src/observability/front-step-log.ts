import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathOf } from '../inbound/node-exchange.js';
import type { StepAnswer } from '../inbound/server.js';
import type { Logger } from '../logger.js';
import { clientOf } from './client-awareness.js';
import type { Metrics } from './metrics.js';

/** Options of `createFrontStepLog`. */
export type FrontStepLogOptions = {
  logger: Logger;
  metrics: Metrics;
};

/**
 * The request log line, and the per-client request count, for requests a front
 * step answered before yoga (a page-cache hit, an anonymous client over its
 * rate limit): the same fields as use-observability.ts writes for the rest, so
 * every request is logged once. Shed requests (503 `OVERLOADED`) are the
 * exception: under a spike one line each would add to the overload, so
 * admission logs when shedding starts and stops instead (shed-reporter.ts),
 * and counts them.
 */
export function createFrontStepLog({ logger, metrics }: FrontStepLogOptions) {
  return (
    req: IncomingMessage,
    res: ServerResponse,
    { code, cache, requestId }: StepAnswer,
    durationMs: number,
  ): void => {
    if (code === 'OVERLOADED') return;
    const client = clientOf({
      get: (name) => {
        const value = req.headers[name];
        return typeof value === 'string' ? value : null;
      },
    });
    metrics.countRequest({ client, status: res.statusCode });
    // Undefined fields are left out of the JSON line by pino itself.
    logger.info({
      msg: 'graphql request',
      requestId,
      method: req.method,
      path: pathOf(req.url),
      status: res.statusCode,
      code,
      cache,
      durationMs: Math.round(durationMs * 10) / 10,
      client: client?.name,
      clientVersion: client?.version,
    });
  };
}
