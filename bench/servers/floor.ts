// The floor: what a careful hand-written endpoint costs. Plain node:http, the
// token verified with jose (as any endpoint serving personal picks must), promo
// and recommendations with Promise.all over keep-alive connections, then one
// catalog call for every book, and the same JSON out as the gateway's answer to
// operations/web/Homepage.graphql. No GraphQL, no validation, no resilience.
import { Agent, createServer, request, type IncomingMessage } from 'node:http';
import { jwtVerify } from 'jose';
// Types only: the floor parses JSON and trusts it, as a hand-written endpoint would.
import type { Book } from '../../src/upstreams/catalog/schema.js';
import type { Promotion } from '../../src/upstreams/promo/schema.js';
import type { RecommendationItem as Pick } from '../../src/upstreams/recommendations/schema.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const key = new TextEncoder().encode(env('JWT_SECRET'));
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const base = {
  promo: env('PROMO_URL'),
  recommendations: env('RECOMMENDATIONS_URL'),
  catalog: env('CATALOG_URL'),
};

function getJson<T>(url: string): Promise<T> {
  return new Promise((resolve, reject) => {
    request(url, { agent, headers: { accept: 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`));
        else resolve(JSON.parse(text) as T);
      });
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

const card = (book: Book | undefined) =>
  book === undefined
    ? null
    : {
        id: book.id,
        title: book.title,
        authors: book.authors,
        price: { amount: book.price.amount, currency: book.price.currency },
        coverUrl: book.coverUrl ?? null,
      };

async function homepage(authorization: string | undefined, limit: number) {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
  const userId = token
    ? (await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }))
        .payload.sub
    : undefined;
  const [{ promotions }, { items }] = await Promise.all([
    getJson<{ promotions: Promotion[] }>(`${base.promo}/promotions/active`),
    getJson<{ items: Pick[] }>(
      userId === undefined
        ? `${base.recommendations}/recommendations/popular?limit=${limit}`
        : `${base.recommendations}/users/${encodeURIComponent(userId)}/recommendations?limit=${limit}`,
    ),
  ]);
  const ids = [
    ...new Set([
      ...promotions.flatMap((promotion) => (promotion.bookId ? [promotion.bookId] : [])),
      ...items.map((item) => item.bookId),
    ]),
  ];
  const { books } = await getJson<{ books: Book[] }>(`${base.catalog}/books?ids=${ids.join(',')}`);
  const byId = new Map(books.map((book) => [book.id, book]));
  return {
    data: {
      homepage: {
        promo: promotions.map((promotion) => ({
          id: promotion.id,
          title: promotion.title,
          imageUrl: promotion.imageUrl,
          link: promotion.link,
          startsAt: promotion.startsAt,
          endsAt: promotion.endsAt,
          book: promotion.bookId ? card(byId.get(promotion.bookId)) : null,
        })),
        recommendations: items.map((item) => ({
          score: item.score,
          reason: item.reason ?? null,
          book: card(byId.get(item.bookId)),
        })),
      },
    },
  };
}

const server = createServer(async (req, res) => {
  try {
    const body = JSON.parse(await readBody(req)) as { variables?: { limit?: number } };
    const json = JSON.stringify(
      await homepage(req.headers.authorization, body.variables?.limit ?? 10),
    );
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(json);
  } catch (error) {
    res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ errors: [{ message: String(error) }] }));
  }
});
server.listen(Number(env('PORT')), '127.0.0.1');
