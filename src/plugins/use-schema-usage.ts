import type { DocumentNode } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { clientOf } from '../observability/client-awareness.js';
import type { SchemaFieldCounter } from '../observability/schema-field-counter.js';
import { coordinatesOf, type DocumentCoordinates } from '../schema-check/document-coordinates.js';

/** Options of `useSchemaUsage`. */
export type SchemaUsageOptions = {
  /** Where selections are counted (`bff_schema_field_requests_total`). */
  counter: SchemaFieldCounter;
  /** Where the first use of a deprecated field by each client version is reported (warn). */
  logger: Logger;
  /** Distinct (client, version, coordinate) deprecation warnings kept, so client-chosen names cannot grow it without bound. Default 10,000. */
  maxDeprecationWarnings?: number;
};

/**
 * Counts the schema coordinates each executed operation selects, per client
 * name and version (`apollographql-client-name`/`-version`), so that
 * `npm run schema:check -- --usage` knows who still uses a field.
 *
 * The coordinates of a document are computed once: yoga's parser cache hands
 * the same DocumentNode to every request with the same text (persisted ids
 * included), and they are kept beside it in a WeakMap, as yoga keeps its
 * validation result. A request costs a lookup and a tally, no walk of the AST.
 *
 * Deprecated fields keep working; the first use of one by a client version is
 * logged (warn), so the team knows whom to ask before removing it.
 *
 * Answers from the anonymous page cache (a front step) never reach yoga: a
 * cached page's coordinates count when it is built or refreshed, not per hit.
 */
export function useSchemaUsage({
  counter,
  logger,
  maxDeprecationWarnings = 10_000,
}: SchemaUsageOptions): Plugin {
  const coordinates = new WeakMap<DocumentNode, DocumentCoordinates>();
  const warned = new Set<string>();
  return {
    onExecute({ args }) {
      let selected = coordinates.get(args.document);
      if (selected === undefined) {
        selected = coordinatesOf(args.schema, args.document);
        coordinates.set(args.document, selected);
      }
      const { request } = args.contextValue as YogaInitialContext;
      const client = clientOf(request.headers);
      counter.count(selected, client);
      if (selected.deprecated.length === 0) return;
      for (const coordinate of selected.deprecated) {
        const key = `${client?.name ?? ''}\u0000${client?.version ?? ''}\u0000${coordinate}`;
        if (warned.has(key) || warned.size >= maxDeprecationWarnings) continue;
        warned.add(key);
        logger.warn({
          msg: 'deprecated field used',
          coordinate,
          client: client?.name ?? 'none',
          clientVersion: client?.version ?? 'none',
        });
      }
    },
  };
}
