import type { Handler } from './upstream.js';
import { sendJson } from './upstream.js';

/**
 * Upstreams that misbehave on purpose, each with the code the gateway must report.
 * `wrongShape` is valid JSON whose envelope breaks the contract.
 */
export const FAULTS: Array<{ name: string; handler: Handler; code: string }> = [
  {
    name: 'answers 500',
    code: 'UPSTREAM_UNAVAILABLE',
    handler: (_req, res) => sendJson(res, { error: 'boom' }, 500),
  },
  {
    name: 'answers 503',
    code: 'UPSTREAM_UNAVAILABLE',
    handler: (_req, res) => sendJson(res, { error: 'down' }, 503),
  },
  {
    name: 'resets the connection',
    code: 'UPSTREAM_UNAVAILABLE',
    handler: (req) => req.socket.destroy(),
  },
  {
    name: 'resets mid-body',
    code: 'UPSTREAM_UNAVAILABLE',
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"promotions":[', () => setTimeout(() => res.socket?.destroy(), 20));
    },
  },
  { name: 'hangs before headers', code: 'UPSTREAM_TIMEOUT', handler: () => {} },
  {
    name: 'sends headers then stalls the body',
    code: 'UPSTREAM_TIMEOUT',
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items":[');
    },
  },
  {
    name: 'sends invalid JSON',
    code: 'UPSTREAM_BAD_RESPONSE',
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"promotions": [ {"id": ');
    },
  },
  {
    name: 'sends an HTML error page',
    code: 'UPSTREAM_BAD_RESPONSE',
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Oops</body></html>');
    },
  },
  {
    name: 'sends JSON of the wrong shape',
    code: 'UPSTREAM_BAD_RESPONSE',
    handler: (_req, res) => sendJson(res, { data: { things: [] } }),
  },
  {
    name: 'answers 404',
    code: 'UPSTREAM_BAD_RESPONSE',
    handler: (_req, res) => sendJson(res, { error: 'nope' }, 404),
  },
  {
    name: 'redirects',
    code: 'UPSTREAM_BAD_RESPONSE',
    handler: (_req, res) => {
      res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' });
      res.end();
    },
  },
  {
    name: 'sends a body over 1 MiB (no content-length)',
    code: 'UPSTREAM_BAD_RESPONSE',
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          promotions: [],
          items: [],
          books: [],
          padding: 'x'.repeat(2 * 1024 * 1024),
        }),
      );
    },
  },
  {
    name: 'declares a content-length over 1 MiB',
    code: 'UPSTREAM_BAD_RESPONSE',
    handler: (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(5 * 1024 * 1024),
      });
      res.write('{"promotions":[');
    },
  },
];
