import { CriticalityLevel, diff } from '@graphql-inspector/core';
import type { GraphQLSchema } from 'graphql';

/** How a change affects clients that already ship documents. */
export type Criticality = 'breaking' | 'dangerous' | 'safe';

/** One change between two schemas, with the schema coordinate it touches. */
export type SchemaChange = {
  criticality: Criticality;
  /** The coordinate changed (`Type`, `Type.field`, `Type.field.arg`, `Enum.VALUE`, `@directive`); `undefined` for the schema's root types. */
  coordinate: string | undefined;
  /** e.g. `FIELD_REMOVED` */
  type: string;
  /** e.g. `Field 'title' was removed from object type 'Book'` */
  message: string;
  /** Why it is breaking or dangerous, when the library says. */
  reason: string | undefined;
};

const LEVELS: Record<CriticalityLevel, Criticality> = {
  [CriticalityLevel.Breaking]: 'breaking',
  [CriticalityLevel.Dangerous]: 'dangerous',
  [CriticalityLevel.NonBreaking]: 'safe',
};

/**
 * Every change from `base` to `candidate`, classified by @graphql-inspector/core:
 * unlike graphql-js's findBreakingChanges (a description only), each change
 * carries the coordinate it touches, which is what usage is matched against.
 */
export async function classifyChanges(
  base: GraphQLSchema,
  candidate: GraphQLSchema,
): Promise<SchemaChange[]> {
  const changes = await diff(base, candidate);
  return changes.map((change) => ({
    criticality: LEVELS[change.criticality.level],
    coordinate: change.path,
    type: change.type,
    message: change.message,
    reason: change.criticality.reason,
  }));
}

/**
 * Whether a change at `changed` can break a use of `used`: the same coordinate,
 * a change above it (its type removed), or below a field it selects (an
 * argument of that field added or changed). A type a document merely names (a
 * fragment condition) is not broken by a change to one of its fields: the
 * fields it selects are coordinates of their own.
 */
export function touches(changed: string, used: string): boolean {
  if (changed === used || used.startsWith(`${changed}.`)) return true;
  return used.includes('.') && changed.startsWith(`${used}.`);
}
