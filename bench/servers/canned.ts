// The canned answer: what this machine allows a page-cache hit. Plain node:http
// writing the bytes and headers a page-cache hit of the gateway sent, handed over
// by the benchmark (IPC) once it has them; nothing else per request but reading
// the body, as a server must before it answers on a keep-alive connection.
//
// CANNED_HIT=minimal (an ablation row): the least a keyed, logged hit does on
// top of that, written as tightly as node:http allows: the body kept and hashed
// into a key (SHA-256), the page found by it in a Map, and one request log line
// written with pino as the gateway writes its own (asynchronous, to stdout).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pino } from 'pino';

type Canned = { body: string; headers: Record<string, string> };
type Page = { body: Buffer; headers: Record<string, string | number> };

let canned: Page | undefined;
process.on('message', (message: Canned) => {
  const body = Buffer.from(message.body);
  canned = { body, headers: { ...message.headers, 'content-length': body.length } };
});

function notYet(res: ServerResponse): void {
  // Not handed its page yet: the benchmark's first-page check waits on 503.
  res.writeHead(503, { 'content-type': 'text/plain' });
  res.end('no page yet');
}

function cannedAnswer(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.once('end', () => {
    if (!canned) return notYet(res);
    res.writeHead(200, canned.headers);
    res.end(canned.body);
  });
}

const logger = pino({ level: 'info' }, pino.destination({ dest: 1, sync: false }));
const pages = new Map<string, Page>();

function minimalHit(req: IncomingMessage, res: ServerResponse): void {
  const started = performance.now();
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.once('end', () => {
    if (!canned) return notYet(res);
    const key = createHash('sha256').update(Buffer.concat(chunks)).digest('base64url');
    let page = pages.get(key);
    if (page === undefined) pages.set(key, (page = canned));
    res.writeHead(200, page.headers);
    res.end(page.body);
    logger.info({
      msg: 'graphql request',
      requestId: page.headers['x-request-id'],
      method: req.method,
      path: req.url,
      status: 200,
      cache: 'hit',
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    });
  });
}

const server = createServer(process.env.CANNED_HIT === 'minimal' ? minimalHit : cannedAnswer);
server.listen(Number(process.env.PORT), '127.0.0.1');
