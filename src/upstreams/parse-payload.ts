import type { z } from 'zod';
import { UpstreamError, type ServiceName } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentObserver, type UpstreamObserver } from '../observability/observer.js';

/**
 * Validates an upstream payload whose interesting part is a list.
 *
 * The envelope must match `envelope` exactly, or the whole payload is unusable
 * (`UPSTREAM_BAD_RESPONSE`). Items are checked one by one against `item`: a bad
 * item is dropped and logged, so one broken record never blanks a page section.
 * Logs name the item's index and the failing fields, never the values.
 */
export function parseListPayload<Envelope extends { items: unknown[] }, Item>(
  service: ServiceName,
  payload: unknown,
  schemas: { envelope: z.ZodType<Envelope>; item: z.ZodType<Item> },
  logger: Logger,
  observer: UpstreamObserver = silentObserver,
): Omit<Envelope, 'items'> & { items: Item[] } {
  const envelope = schemas.envelope.safeParse(payload);
  if (!envelope.success) {
    const message = `payload does not match its contract: ${summarize(envelope.error)}`;
    logger.warn(`[${service}] UPSTREAM_BAD_RESPONSE ${message}`);
    throw new UpstreamError(service, 'UPSTREAM_BAD_RESPONSE', message);
  }

  const items: Item[] = [];
  envelope.data.items.forEach((raw, index) => {
    const item = schemas.item.safeParse(raw);
    if (item.success) items.push(item.data);
    else {
      observer.onDroppedItem(service);
      logger.warn(`[${service}] dropped invalid item #${index}: ${summarize(item.error)}`);
    }
  });
  return { ...envelope.data, items };
}

function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`)
    .join('; ');
}
