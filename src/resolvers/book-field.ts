import type { Book } from '../upstreams/catalog/schema.js';
import type { GatewayContext } from '../context.js';

/** Resolves a `book` field from a model that holds a `bookId`, through the batch loader. */
export function bookById(
  parent: { bookId: string | null },
  _args: unknown,
  { loaders }: GatewayContext,
): Promise<Book | null> | null {
  return parent.bookId === null ? null : loaders.book.load(parent.bookId);
}
