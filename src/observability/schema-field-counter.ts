import { Counter, type Registry } from 'prom-client';
import type { ClientIdentity } from './client-awareness.js';

/** The counter's name, which `npm run schema:check -- --usage` reads back (schema-check/usage-file.ts). */
export const FIELD_USAGE_METRIC = 'bff_schema_field_requests_total';

/** What the gateway counts per operation: the `Type.field` coordinates its document selects. */
export type SelectedFields = { readonly fields: readonly string[] };

/** Counts selections per coordinate and client (`bff_schema_field_requests_total`). */
export type SchemaFieldCounter = {
  /** One request of a document by a client; the same `fields` object for the same document. */
  count(selected: SelectedFields, client: ClientIdentity | undefined): void;
};

/** Documents tallied between scrapes before they are spread over the counter anyway. */
const MAX_PENDING_DOCUMENTS = 1000;

export const silentSchemaFieldCounter: SchemaFieldCounter = { count: () => {} };

/**
 * `bff_schema_field_requests_total{coordinate, client, client_version}`.
 *
 * A page selects a few dozen coordinates, and one counter increment per
 * coordinate per request would be the whole cost of this feature. So a request
 * adds one to its document's tally for its client, and the tallies are spread
 * over the coordinates when Prometheus scrapes: the cost per request is one map
 * lookup, whatever the document's size. Client labels come from the same
 * bounded labeller as `bff_http_requests_total`, so the series are bounded by
 * coordinates × that bound.
 */
export function createSchemaFieldCounter({
  registry,
  clientLabels,
}: {
  registry: Registry;
  clientLabels: (client: ClientIdentity | undefined) => { client: string; version: string };
}): SchemaFieldCounter {
  /** Requests since the last scrape, per document, per client label pair. */
  let pending = new Map<SelectedFields, Map<string, number>>();
  const counter = new Counter({
    name: FIELD_USAGE_METRIC,
    help: "Requests whose operation selected a schema coordinate (Type.field), by client name and version (labels bounded as bff_http_requests_total's). Read by npm run schema:check -- --usage.",
    labelNames: ['coordinate', 'client', 'client_version'],
    registers: [registry],
    collect: () => flush(),
  });
  function flush(): void {
    const tallies = pending;
    pending = new Map();
    for (const [selected, byClient] of tallies) {
      for (const [key, requests] of byClient) {
        const [client = 'none', client_version = 'none'] = key.split('\u0000');
        for (const coordinate of selected.fields) {
          counter.inc({ coordinate, client, client_version }, requests);
        }
      }
    }
  }
  return {
    count(selected, identity) {
      if (selected.fields.length === 0) return;
      const { client, version } = clientLabels(identity);
      const key = `${client}\u0000${version}`;
      let byClient = pending.get(selected);
      if (byClient === undefined) {
        // Unscraped, distinct documents (any text, when trusted documents are off)
        // would pile up here: spread them early instead.
        if (pending.size >= MAX_PENDING_DOCUMENTS) flush();
        pending.set(selected, (byClient = new Map()));
      }
      byClient.set(key, (byClient.get(key) ?? 0) + 1);
    },
  };
}
