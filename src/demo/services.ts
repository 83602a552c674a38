import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DemoFault, DemoServiceConfig } from '../config.js';
import type { ServiceName } from '../errors.js';
import { activePromotions, BOOKS, picksForUser, popularPicks } from './data.js';

/** The running demo services: their base URLs, and a way to stop them. */
export type DemoServices = {
  urls: Record<ServiceName, string>;
  close(): Promise<void>;
};

/** What a demo service answers: a status and a JSON body. */
export type Reply = { status: number; body: unknown };
type Route = (url: URL) => Reply;

/** The demo services' answer to a GET, by service; also used by bench/. */
export function demoReply(service: ServiceName, url: URL): Reply {
  return routes[service](url);
}

const routes: Record<ServiceName, Route> = {
  promo: (url) =>
    url.pathname === '/promotions/active'
      ? { status: 200, body: { promotions: activePromotions() } }
      : notFound(url),

  recommendations: (url) => {
    const limit = Number(url.searchParams.get('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return { status: 400, body: { error: 'limit must be an integer from 1 to 100' } };
    }
    if (url.pathname === '/recommendations/popular') {
      return { status: 200, body: { items: popularPicks(limit) } };
    }
    const user = /^\/users\/([^/]+)\/recommendations$/.exec(url.pathname);
    if (user?.[1]) {
      const userId = decodeURIComponent(user[1]);
      return { status: 200, body: { userId, items: picksForUser(userId, limit) } };
    }
    return notFound(url);
  },

  catalog: (url) => {
    if (url.pathname !== '/books') return notFound(url);
    const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
    if (ids.length === 0 || ids.length > 100) {
      return { status: 400, body: { error: 'ids must list 1 to 100 book ids' } };
    }
    const books = ids.flatMap((id) => {
      const book = BOOKS.get(id);
      if (!book) return [];
      const { genre: _genre, ...wire } = book;
      return [wire];
    });
    return { status: 200, body: { books } };
  },
};

/**
 * Starts the promo, recommendations and catalog demo services on loopback
 * (ephemeral ports). Each can be slowed down or made to fail, to watch the
 * gateway's partial data in GraphiQL.
 */
export async function startDemoServices(
  config: Record<ServiceName, DemoServiceConfig>,
): Promise<DemoServices> {
  const services = Object.keys(routes) as ServiceName[];
  const servers = await Promise.all(
    services.map((service) => listen(routes[service], config[service])),
  );
  const urls = Object.fromEntries(
    services.map((service, i) => {
      const { port } = servers[i]?.address() as AddressInfo;
      return [service, `http://127.0.0.1:${port}`];
    }),
  ) as Record<ServiceName, string>;

  return {
    urls,
    close: async () => {
      await Promise.all(
        servers.map(
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

function send(res: ServerResponse, { status, body }: Reply) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

function notFound(url: URL): Reply {
  return { status: 404, body: { error: `no route for ${url.pathname}` } };
}
