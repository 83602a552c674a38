import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { createClientAddress } from '../inbound/client-address.js';
import { createClientRegistrationBudgets } from '../persisted/client-registration-budgets.js';
import { requestError } from '../errors/vocabulary.js';
import type { Logger } from '../logger.js';
import type { PersistedQueryStore } from '../persisted/persisted-query-store.js';
import { createRegistrationBudget } from '../persisted/registration-budget.js';
import { requestedDocument } from '../persisted/requested-document.js';
import {
  canonicalId,
  documentId,
  type TrustedDocumentManifest,
  type TrustedDocumentsMode,
} from '../trusted-documents.js';

/** Options of `useTrustedDocuments`. */
export type TrustedDocumentsOptions = {
  /**
   * - `off`: any operation runs; ids are served from the manifest, then from
   *   documents registered by automatic persisted queries.
   * - `log`: as `off`, and operations that are not in the manifest are logged.
   * - `enforce`: only ids from the manifest run; nothing is registered.
   */
  mode: TrustedDocumentsMode;
  manifest: TrustedDocumentManifest;
  /**
   * Where automatic persisted queries are registered (not used in `enforce`
   * mode); `null`: APQ off, unknown hashes get `PersistedQueryNotSupported` so
   * clients stop sending hashes first.
   */
  store: PersistedQueryStore | null;
  /** New registrations per minute, process-wide. */
  registrationsPerMinute: number;
  /** New registrations per minute by one client address (APQ_REGISTRATIONS_PER_CLIENT_PER_MINUTE). */
  registrationsPerClientPerMinute: number;
  /**
   * Largest document registered, in UTF-8 bytes of the text as sent, comments and
   * whitespace included (APQ_MAX_DOCUMENT_BYTES): larger ones are refused with
   * `PERSISTED_QUERY_TOO_LARGE`.
   */
  maxDocumentBytes: number;
  /** Proxies whose `X-Forwarded-For` names the client (TRUSTED_PROXIES). Default: none. */
  trustedProxies?: readonly string[];
  logger: Logger;
};

/** A document sent with its hash, to register once it has passed validation. */
type Pending = { id: string; query: string };

/**
 * Persisted documents and automatic persisted queries (APQ), in one place:
 *
 * - an id alone (`documentId`, Relay's `doc_id`, the older `id`, in the body or
 *   the URL, or Apollo's `extensions.persistedQuery.sha256Hash`) runs the
 *   manifest's document, or one registered earlier;
 * - an unknown hash from Apollo's protocol gets `PersistedQueryNotFound`, the
 *   answer Apollo clients and urql retry on with the text;
 * - a hash with its text is checked (sha256 of the text), registered once the
 *   document has validated (so junk is never stored), and run.
 */
export function useTrustedDocuments({
  mode,
  manifest,
  store,
  registrationsPerMinute,
  registrationsPerClientPerMinute,
  maxDocumentBytes,
  trustedProxies = [],
  logger,
}: TrustedDocumentsOptions): Plugin {
  const byId = new Map(Object.entries(manifest));
  const budget = createRegistrationBudget({ perMinute: registrationsPerMinute });
  const clientBudgets = createClientRegistrationBudgets({
    perMinute: registrationsPerClientPerMinute,
  });
  const addressOf = createClientAddress(trustedProxies);
  // Node's request, when yoga runs behind Node's server; in-process calls share one budget.
  const clientOf = (context: object) => {
    const req = (context as { req?: IncomingMessage }).req;
    return req?.socket ? addressOf(req) : 'in-process';
  };
  const pending = new WeakMap<object, Pending & { client: string }>();
  const logUntrusted = (id: string, name: string | null | undefined, query: string) => {
    const operation = name ?? /\b(?:query|mutation|subscription)\s+([_A-Za-z]\w*)/.exec(query)?.[1];
    logger.warn(`Untrusted operation ${operation ?? '(anonymous)'} (${id}): not in the manifest`);
  };
  let budgetWarnedAt = 0;
  // A store that fails (Redis down) is a miss: the client retries with the text.
  const lookUp = (from: PersistedQueryStore, id: string) =>
    from.get(id).catch((error: unknown) => {
      logger.warn(`Could not read persisted query ${id}: ${String(error)}`);
      return undefined;
    });

  return {
    async onParams({ params, request, setParams, context }) {
      const asked = requestedDocument(params, request.url);
      const run = (query: string) =>
        // Only the standard fields go on: yoga refuses unknown ones (`doc_id`, `id`).
        setParams({
          query,
          operationName: params.operationName,
          variables: params.variables,
          extensions: params.extensions,
        });
      if (asked.kind === 'apq' && asked.version !== 1) {
        throw requestError('BAD_REQUEST', { message: 'Unsupported persisted query version.' });
      }

      if (typeof params.query === 'string') {
        const query = params.query;
        // The common case: a query's text and nothing to check it against.
        if (asked.kind === 'none' && mode === 'off') return;
        const id = documentId(query);
        if (asked.kind === 'apq' && canonicalId(asked.hash) !== id) {
          throw requestError('PERSISTED_QUERY_HASH_MISMATCH');
        }
        if (mode === 'enforce' && !(asked.kind === 'apq' && byId.has(id))) {
          throw requestError('PERSISTED_QUERY_ONLY');
        }
        if (mode === 'log' && !byId.has(id)) logUntrusted(id, params.operationName, query);
        if (asked.kind === 'apq' && store && mode !== 'enforce' && !byId.has(id)) {
          // Measured on the text as sent: comments and whitespace take memory
          // too, though the token limit does not count them.
          if (Buffer.byteLength(query) > maxDocumentBytes) {
            throw requestError('PERSISTED_QUERY_TOO_LARGE', {
              message: `Documents over ${maxDocumentBytes} bytes are not registered: send the query without its hash.`,
            });
          }
          pending.set(context, { id, query, client: clientOf(context) });
        }
        run(query);
        return;
      }

      if (asked.kind === 'none') {
        // A query of the wrong type: yoga's own check says what is wrong.
        if (params.query !== undefined && params.query !== null) return;
        throw requestError('BAD_REQUEST', {
          message: 'Send a query, or the documentId of a persisted document.',
        });
      }
      const id = canonicalId(asked.kind === 'apq' ? asked.hash : asked.id);
      const trusted = byId.get(id);
      if (trusted !== undefined) return run(trusted);
      const registered = mode === 'enforce' || !store ? undefined : await lookUp(store, id);
      if (registered !== undefined) {
        if (mode === 'log') logUntrusted(id, params.operationName, registered);
        return run(registered);
      }
      if (asked.kind === 'apq' && !store && mode !== 'enforce') {
        throw requestError('PERSISTED_QUERY_NOT_SUPPORTED', {
          status: 200,
          headers: { 'cache-control': 'private, no-cache, must-revalidate' },
        });
      }
      if (asked.kind === 'apq') {
        // 200, as Apollo Server answers: Apollo iOS and Kotlin treat any other
        // status as a transport failure and never retry with the text. Not
        // cacheable: the same GET succeeds once the document is registered.
        throw requestError('PERSISTED_QUERY_NOT_FOUND', {
          status: 200,
          headers: { 'cache-control': 'private, no-cache, must-revalidate' },
        });
      }
      throw requestError('PERSISTED_QUERY_NOT_FOUND', {
        message: `Unknown document id ${asked.id}: build it into a trusted-document manifest.`,
      });
    },
    onValidate({ context }) {
      const document = pending.get(context);
      if (document === undefined) return;
      pending.delete(context);
      return ({ valid }) => {
        if (!valid) return;
        // The client's own budget first: over it, the shared one is left untouched.
        if (!clientBudgets.take(document.client) || !budget.take()) {
          if (Date.now() - budgetWarnedAt > 60_000) {
            budgetWarnedAt = Date.now();
            logger.warn('Persisted query registrations over their budget: not registering');
          }
          return;
        }
        store?.set(document.id, document.query).catch((error: unknown) => {
          logger.warn(`Could not register persisted query ${document.id}: ${String(error)}`);
        });
      };
    },
  };
}
