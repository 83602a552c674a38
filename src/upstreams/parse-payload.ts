import type { z } from 'zod';
import { upstreamFailure } from '../errors/upstream-error.js';
import type { Logger } from '../logger.js';
import type { RequestRecord } from '../observability/request-record.js';
import type { ServiceName } from './services.js';

/** Options of `parseListPayload`. */
export type ParseListOptions<Envelope extends { items: unknown[] }, Item> = {
  service: ServiceName;
  payload: unknown;
  /** The whole payload's shape; its `items` are checked one by one against `item`. */
  envelope: z.ZodType<Envelope>;
  item: z.ZodType<Item>;
  logger: Logger;
  /** Where dropped items are counted. */
  record: RequestRecord;
};

/**
 * Validates an upstream payload whose interesting part is a list.
 *
 * The envelope must match `envelope` exactly, or the whole payload is unusable
 * (`UPSTREAM_BAD_RESPONSE`). Items are checked one by one against `item`: a bad
 * item is dropped and logged, so one broken record never blanks a page section.
 * Logs name the item's index and the failing fields, never the values.
 */
export function parseListPayload<Envelope extends { items: unknown[] }, Item>({
  service,
  payload,
  envelope,
  item,
  logger,
  record,
}: ParseListOptions<Envelope, Item>): Omit<Envelope, 'items'> & { items: Item[] } {
  const parsed = envelope.safeParse(payload);
  if (!parsed.success) {
    const message = `payload does not match its contract: ${summarize(parsed.error)}`;
    throw upstreamFailure(logger, service, 'UPSTREAM_BAD_RESPONSE', message);
  }

  const items: Item[] = [];
  parsed.data.items.forEach((raw, index) => {
    const result = item.safeParse(raw);
    if (result.success) items.push(result.data);
    else {
      record.droppedItem(service);
      logger.warn(`[${service}] dropped invalid item #${index}: ${summarize(result.error)}`);
    }
  });
  return { ...parsed.data, items };
}

function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`)
    .join('; ');
}
