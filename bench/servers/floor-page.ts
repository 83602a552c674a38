// The floor's page, shared by the floor (floor.ts) and the ablations built on
// it (yoga-floor.ts): the token verified with jose, promo and recommendations
// with Promise.all, then one catalog call for every book, and the same JSON as
// the gateway's answer to operations/web/Homepage.graphql. No validation, no
// resilience. How each upstream GET is made is the caller's (`GetJson`).
import { Agent, request } from 'node:http';
import { jwtVerify } from 'jose';
import ky from 'ky';
import { createPooledFetch } from '../../src/outbound/pooled-fetch.js';
// Types only: the floor parses JSON and trusts it, as a hand-written endpoint would.
import type { Book } from '../../src/upstreams/catalog/schema.js';
import type { Promotion } from '../../src/upstreams/promo/schema.js';
import type { RecommendationItem as Pick } from '../../src/upstreams/recommendations/schema.js';

export const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const key = new TextEncoder().encode(env('JWT_SECRET'));
const base = {
  promo: env('PROMO_URL'),
  recommendations: env('RECOMMENDATIONS_URL'),
  catalog: env('CATALOG_URL'),
};

type Service = keyof typeof base;

/** GETs `path` (no leading slash) from a service and parses its JSON body, trusting it. */
export type GetJson = <T>(service: Service, path: string) => Promise<T>;

/** Keep-alive `http.request`: the floor's own way. */
function httpGetJson(): GetJson {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  return <T>(service: Service, path: string) =>
    new Promise<T>((resolve, reject) => {
      const url = `${base[service]}/${path}`;
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

/**
 * ky 1 as the gateway's upstream client uses it (upstream-client.ts): one
 * instance per service, its base URL as `prefixUrl`, on the gateway's undici
 * pool (pooled-fetch.ts), retries and timeouts off in ky, and a call's own
 * AbortController with its timer, cleared when the call ends. An ablation:
 * what the fixed HTTP client costs a page, with nothing else of the gateway
 * around it.
 */
function kyGetJson(timeoutMs = 1000): GetJson {
  const client = (baseUrl: string) =>
    ky.create({
      fetch: createPooledFetch(baseUrl).fetch,
      prefixUrl: baseUrl,
      retry: 0,
      timeout: false,
      redirect: 'manual',
      headers: { accept: 'application/json' },
    });
  const clients = {
    promo: client(base.promo),
    recommendations: client(base.recommendations),
    catalog: client(base.catalog),
  };
  return async <T>(service: Service, path: string) => {
    const http = clients[service];
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      return await http.get(path, { signal: controller.signal }).json<T>();
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * How the page's calls are made, as FLOOR_CLIENT says: `ky` for the ablation
 * rows (bench/rows.ts), otherwise the floor's own keep-alive `http.request`.
 */
export function floorGetJson(): GetJson {
  return process.env.FLOOR_CLIENT === 'ky' ? kyGetJson() : httpGetJson();
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

/** The `homepage` field of the answer: promo banners and picks, with their books. */
export async function homepage(getJson: GetJson, authorization: string | undefined, limit: number) {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
  const userId = token
    ? (await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }))
        .payload.sub
    : undefined;
  const [{ promotions }, { items }] = await Promise.all([
    getJson<{ promotions: Promotion[] }>('promo', 'promotions/active'),
    getJson<{ items: Pick[] }>(
      'recommendations',
      userId === undefined
        ? `recommendations/popular?limit=${limit}`
        : `users/${encodeURIComponent(userId)}/recommendations?limit=${limit}`,
    ),
  ]);
  const ids = [
    ...new Set([
      ...promotions.flatMap((promotion) => (promotion.bookId ? [promotion.bookId] : [])),
      ...items.map((item) => item.bookId),
    ]),
  ];
  const { books } = await getJson<{ books: Book[] }>('catalog', `books?ids=${ids.join(',')}`);
  const byId = new Map(books.map((book) => [book.id, book]));
  return {
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
  };
}
