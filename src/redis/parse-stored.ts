import type { z } from 'zod';

/**
 * A value read from Redis, or `undefined` when there is none or it is unusable:
 * not JSON, or not the shape `schema` describes (another release, a hand edit,
 * a corrupted store). An unusable value is a miss, reported to `onInvalid`,
 * never an error: Redis is only a cache.
 */
export function parseStored<T>(
  raw: string | null | undefined,
  schema: z.ZodType<T>,
  onInvalid: () => void,
): T | undefined {
  if (raw === null || raw === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    onInvalid();
    return undefined;
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  onInvalid();
  return undefined;
}
