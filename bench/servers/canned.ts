// The canned answer: what this machine allows a page-cache hit. Plain node:http
// writing the bytes and headers a page-cache hit of the gateway sent, handed over
// by the benchmark (IPC) once it has them; nothing else per request but reading
// the body, as a server must before it answers on a keep-alive connection.
import { createServer } from 'node:http';

type Canned = { body: string; headers: Record<string, string> };

let canned: { body: Buffer; headers: Record<string, string | number> } | undefined;
process.on('message', (message: Canned) => {
  const body = Buffer.from(message.body);
  canned = { body, headers: { ...message.headers, 'content-length': body.length } };
});

const server = createServer((req, res) => {
  req.resume();
  req.once('end', () => {
    if (!canned) {
      // Not handed its page yet: the benchmark's first-page check waits on 503.
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('no page yet');
      return;
    }
    res.writeHead(200, canned.headers);
    res.end(canned.body);
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
