import { BOOKS } from '../../demo/data.js';
import { notFound, type DemoReply } from '../../demo/reply.js';

/** The demo catalog service: `GET /books?ids=b-1,b-2` (1 to 100 ids). */
export function catalogDemoRoute(url: URL): DemoReply {
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
}
