import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UPSTREAMS } from '../upstreams/registry.js';
import { perServiceAsync, type PerService, type ServiceName } from '../upstreams/services.js';
import type { DemoReply } from './reply.js';
import type { DemoFault, DemoServiceConfig } from './settings.js';

/** The running demo services: their base URLs, and a way to stop them. */
export type DemoServices = {
  urls: PerService<string>;
  close(): Promise<void>;
};

type Route = (url: URL) => DemoReply;

/** The demo services' answer to a GET, by service; also used by bench/. */
export function demoReply(service: ServiceName, url: URL): DemoReply {
  return UPSTREAMS[service].demoRoute(url);
}

/**
 * Starts the promo, recommendations and catalog demo services on loopback
 * (ephemeral ports). Each can be slowed down or made to fail, to watch the
 * gateway's partial data in GraphiQL.
 */
export async function startDemoServices(
  config: PerService<DemoServiceConfig>,
): Promise<DemoServices> {
  const servers = await perServiceAsync((service) =>
    listen(UPSTREAMS[service].demoRoute, config[service]),
  );
  const urls = await perServiceAsync(async (service) => {
    const { port } = servers[service].address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  });

  return {
    urls,
    close: async () => {
      await Promise.all(
        Object.values(servers).map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}

// Private helpers.

async function listen(route: Route, { latencyMs, fault }: DemoServiceConfig): Promise<Server> {
  const server = createServer((req, res) => {
    const reply = () => answer(req, res, route, fault);
    if (latencyMs > 0) setTimeout(reply, latencyMs);
    else reply();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function answer(req: IncomingMessage, res: ServerResponse, route: Route, fault: DemoFault) {
  if (req.method !== 'GET') return send(res, { status: 405, body: { error: 'GET only' } });
  switch (fault) {
    case 'hang':
      return; // Never answers; the gateway's timeout must cut it off.
    case 'error':
      return send(res, { status: 503, body: { error: 'demo fault: service unavailable' } });
    case 'garbage':
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    case 'malformed':
      return send(res, { status: 200, body: { unexpected: 'shape', data: [1, 2, 3] } });
    case 'none':
      return send(res, route(new URL(req.url ?? '/', 'http://demo')));
  }
}

function send(res: ServerResponse, { status, body }: DemoReply) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}
