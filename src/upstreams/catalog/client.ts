import type { CallOptions, UpstreamClient } from '../../http/upstream-client.js';
import type { Logger } from '../../logger.js';
import type { UpstreamObserver } from '../../observability/observer.js';
import { parseListPayload } from '../parse-payload.js';
import { Book, BooksEnvelope, MAX_IDS_PER_REQUEST } from './schema.js';

export type CatalogService = {
  /**
   * Books by id, in one request. Ids the catalog does not know are absent from the
   * map. Callers batch (see loaders/book-loader.ts); more than 100 ids is a bug.
   */
  booksByIds(ids: readonly string[], call?: CallOptions): Promise<Map<string, Book>>;
};

export function createCatalogService(
  http: UpstreamClient,
  logger: Logger,
  observer?: UpstreamObserver,
): CatalogService {
  const envelope = BooksEnvelope.transform(({ books }) => ({ items: books }));
  return {
    async booksByIds(ids, call) {
      if (ids.length > MAX_IDS_PER_REQUEST) {
        throw new RangeError(`At most ${MAX_IDS_PER_REQUEST} ids per request, got ${ids.length}`);
      }
      const { data } = await http.getJson('books', {
        ...call,
        searchParams: { ids: ids.join(',') },
      });
      const { items } = parseListPayload(
        'catalog',
        data,
        { envelope, item: Book },
        logger,
        observer,
      );
      return new Map(items.map((book) => [book.id, book]));
    },
  };
}
