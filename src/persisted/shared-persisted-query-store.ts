import type { RedisConnection } from '../redis/connection.js';
import { KEYS } from '../redis/keys.js';
import { documentId } from '../trusted-documents.js';
import type { PersistedQueryStore } from './persisted-query-store.js';

/** How long Redis keeps a registration: a day; clients register again on a miss. */
const TTL_SECONDS = 86_400;

/** Options of `createSharedPersistedQueryStore`. */
export type SharedPersistedQueryStoreOptions = {
  /** This process's level, asked first (createMemoryPersistedQueryStore). */
  memory: PersistedQueryStore;
  connection: RedisConnection;
  /** A value in Redis that is not the document its id names. */
  onInvalid?: () => void;
};

/**
 * Documents registered through automatic persisted queries, shared by replicas:
 * memory first, then Redis, so a registration on one replica serves them all.
 * A value read from Redis is used only if its SHA-256 is the id it is stored
 * under: a corrupted or planted value is a miss, never a different operation.
 * Redis down or slow is a miss (the client sends the text again); writes are
 * never waited for. Registration stays bounded by the plugin's rate limit and
 * by the key's expiry.
 */
export function createSharedPersistedQueryStore({
  memory,
  connection,
  onInvalid = () => {},
}: SharedPersistedQueryStoreOptions): PersistedQueryStore {
  return {
    async get(id) {
      const local = await memory.get(id);
      if (local !== undefined) return local;
      const stored = await connection.run((redis) => redis.get(KEYS.persistedQuery(id)));
      if (stored === null || stored === undefined) return undefined;
      if (documentId(stored) !== id) {
        onInvalid();
        return undefined;
      }
      await memory.set(id, stored);
      return stored;
    },
    async set(id, document) {
      await memory.set(id, document);
      connection.write((redis) => redis.set(KEYS.persistedQuery(id), document, 'EX', TTL_SECONDS));
    },
  };
}
