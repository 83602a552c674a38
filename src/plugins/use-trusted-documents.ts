import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { Plugin } from 'graphql-yoga';
import { requestError } from '../errors/vocabulary.js';
import type { Logger } from '../logger.js';
import {
  documentId,
  type TrustedDocumentManifest,
  type TrustedDocumentsMode,
} from '../trusted-documents.js';

/** Options of `useTrustedDocuments`. */
export type TrustedDocumentsOptions = {
  /**
   * - `off`: any operation runs; `documentId` requests are served from the manifest.
   * - `log`: as `off`, and operations sent as text that are not in the manifest are logged.
   * - `enforce`: only `documentId` requests for documents in the manifest run.
   */
  mode: TrustedDocumentsMode;
  manifest: TrustedDocumentManifest;
  logger: Logger;
};

/**
 * Serves trusted documents by id: `{"documentId": "sha256:<hex>"}` (the GraphQL
 * over HTTP persisted-documents form), or Apollo's
 * `extensions.persistedQuery.sha256Hash`. Built on yoga's persisted-operations plugin.
 */
export function useTrustedDocuments({ mode, manifest, logger }: TrustedDocumentsOptions): Plugin {
  const byId = new Map(Object.entries(manifest));
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(
        usePersistedOperations({
          getPersistedOperation: (id) => byId.get(normalize(id)) ?? null,
          allowArbitraryOperations: mode !== 'enforce',
          extractPersistedOperationId: (params) => {
            const fromBody = (params as { documentId?: unknown }).documentId;
            if (typeof fromBody === 'string') return fromBody;
            const hash = (params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined)
              ?.sha256Hash;
            return typeof hash === 'string' ? hash : null;
          },
          customErrors: {
            keyNotFound: () =>
              requestError('BAD_REQUEST', {
                message: 'Send a query, or the documentId of a trusted document.',
              }),
            notFound: () => requestError('PERSISTED_QUERY_NOT_FOUND'),
            persistedQueryOnly: () => requestError('PERSISTED_QUERY_ONLY'),
          },
        }),
      );
    },
    onParams({ params }) {
      if (mode !== 'log' || typeof params.query !== 'string') return;
      const id = documentId(params.query);
      if (!byId.has(id)) {
        const name =
          params.operationName ??
          /\b(?:query|mutation|subscription)\s+([_A-Za-z]\w*)/.exec(params.query)?.[1] ??
          '(anonymous)';
        logger.warn(`Untrusted operation ${name} (${id}): not in the manifest`);
      }
    },
  };
}

/** Accepts a bare hex hash (Apollo's form) as well as `sha256:<hex>`. */
function normalize(id: string): string {
  return id.startsWith('sha256:') ? id : `sha256:${id}`;
}
