import type { CallOptions, UpstreamClient } from '../../outbound/upstream-client.js';
import type { Logger } from '../../logger.js';
import { parseListPayload } from '../parse-payload.js';
import { Book, BooksEnvelope, MAX_IDS_PER_REQUEST } from './schema.js';

export type CatalogService = {
  /**
   * Books by id, in one request. Ids the catalog does not know are absent from the
   * map. Callers batch (see loaders/book-loader.ts); more than 100 ids is a bug.
   */
  booksByIds(ids: readonly string[], call: CallOptions): Promise<Map<string, Book>>;
};

// Built once: zod compiles a parser per schema object.
const envelope = BooksEnvelope.transform(({ books }) => ({ items: books }));

export function createCatalogService(
  http: UpstreamClient,
  { logger }: { logger: Logger },
): CatalogService {
  return {
    async booksByIds(ids, call) {
      if (ids.length > MAX_IDS_PER_REQUEST) {
        throw new RangeError(`At most ${MAX_IDS_PER_REQUEST} ids per request, got ${ids.length}`);
      }
      const { data } = await http.getJson('books', {
        ...call,
        searchParams: { ids: ids.join(',') },
      });
      const { items } = parseListPayload({
        service: 'catalog',
        payload: data,
        envelope,
        item: Book,
        logger,
        record: call.record,
      });
      return new Map(items.map((book) => [book.id, book]));
    },
  };
}
