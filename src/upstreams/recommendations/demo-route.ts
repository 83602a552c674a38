import { picksForUser, popularPicks } from '../../demo/data.js';
import { notFound, type DemoReply } from '../../demo/reply.js';

/**
 * The demo recommendations service: `GET /users/{userId}/recommendations?limit=N`
 * and `GET /recommendations/popular?limit=N`.
 */
export function recommendationsDemoRoute(url: URL): DemoReply {
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
}
