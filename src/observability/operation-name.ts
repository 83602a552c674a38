import type { DocumentNode } from 'graphql';

/** The name a request's operation goes by in logs, metrics and spans. */
export function operationName(
  operationName: string | null | undefined,
  document: DocumentNode,
): string {
  if (operationName) return operationName;
  for (const definition of document.definitions) {
    if (definition.kind === 'OperationDefinition') return definition.name?.value ?? 'anonymous';
  }
  return 'anonymous';
}
