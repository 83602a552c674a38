import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { errorBody } from '../errors/vocabulary.js';
import { pathOf } from './node-exchange.js';

/**
 * Prometheus metrics on a port of their own (METRICS_PORT), in production by
 * default. On the main port `/metrics` was public, and, like the probes, never
 * shed nor rate limited (a scraper must get through an overload, which is when
 * the numbers matter): anyone could pull it as often as they liked, and read
 * the process's internals. Apart, it is reachable only where the operator opens
 * that port (the cluster network, the scraper), and still never shed or limited.
 */
export function createMetricsServer(registry: Registry): Server {
  const notFound = errorBody('NOT_FOUND');
  return createServer((req, res) => {
    if (pathOf(req.url) !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(notFound);
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('metrics unavailable');
      },
    );
  });
}
