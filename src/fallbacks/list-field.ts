import { responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from '../context.js';
import type { CallOptions } from '../outbound/upstream-client.js';
import { inSpan } from '../observability/tracing.js';

/** What a list field's work receives: its call options and its response path. */
export type ListFieldWork<T> = (call: CallOptions, path: Array<string | number>) => Promise<T>;

/**
 * Runs the work of a homepage list field (a field whose items carry book ids)
 * the way every such field must run: in its own span under the operation's,
 * tracked by the request's list gate (so its books join the page's one catalog
 * batch), and recorded by path (so the request log names its outcome). A new
 * list field that goes through here cannot forget any of the three.
 */
export function listField<T>(
  { record, lists }: GatewayContext,
  info: GraphQLResolveInfo,
  work: ListFieldWork<T>,
): Promise<T> {
  const path = responsePathAsArray(info.path);
  record.trackField(path);
  const spanName = `${info.parentType.name}.${info.fieldName}`;
  const result = inSpan(record.tracer, spanName, record.spanParent, {}, (parent) =>
    work({ record, parent }, path),
  );
  return lists.track(result, info);
}
