// The floor: what a careful hand-written endpoint costs. Plain node:http and
// the page of floor-page.ts: the token verified with jose (as any endpoint
// serving personal picks must), promo and recommendations with Promise.all over
// keep-alive connections, then one catalog call for every book. No GraphQL, no
// validation, no resilience.
//
// FLOOR_CLIENT=ky makes the same three calls through ky on the gateway's pool
// instead of http.request: an ablation row, what the fixed HTTP client alone
// costs (bench/rows.ts).
import { createServer, type IncomingMessage } from 'node:http';
import { env, floorGetJson, homepage } from './floor-page.js';

const getJson = floorGetJson();

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

const server = createServer(async (req, res) => {
  try {
    const body = JSON.parse(await readBody(req)) as { variables?: { limit?: number } };
    const json = JSON.stringify({
      data: {
        homepage: await homepage(getJson, req.headers.authorization, body.variables?.limit ?? 10),
      },
    });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(json);
  } catch (error) {
    res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ errors: [{ message: String(error) }] }));
  }
});
server.listen(Number(env('PORT')), '127.0.0.1');
