import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './connection.js';

/**
 * The values of unrelated keys, in the order asked: one MGET on a single
 * server or behind Sentinel. A Cluster refuses an MGET whose keys lie in
 * different hash slots (CROSSSLOT), so there each key is a GET of its own;
 * the Cluster client's auto-pipelining (connection.ts) sends them as one
 * pipeline per node, so it still costs one round trip per node.
 */
export function readMany(client: RedisClient, keys: readonly string[]): Promise<(string | null)[]> {
  if (client.isCluster) return Promise.all(keys.map((key) => client.get(key)));
  return client.mget(...keys);
}

/** `SET key value PX ttl` for each entry, across slots as `readMany` reads them. */
export async function writeMany(
  client: RedisClient,
  entries: Iterable<readonly [key: string, value: string]>,
  ttlMs: number,
): Promise<void> {
  if (client.isCluster) {
    await Promise.all([...entries].map(([key, value]) => client.set(key, value, 'PX', ttlMs)));
    return;
  }
  const batch = client.pipeline();
  for (const [key, value] of entries) batch.set(key, value, 'PX', ttlMs);
  await execOrThrow(batch);
}

/**
 * Runs a pipeline or transaction and gives its replies. It resolves even when
 * its commands fail: the first failure is thrown instead.
 */
export async function execOrThrow(batch: ChainableCommander): Promise<[Error | null, unknown][]> {
  const replies = (await batch.exec()) ?? [];
  const failure = replies.find(([error]) => error !== null)?.[0];
  if (failure) throw failure;
  return replies;
}
