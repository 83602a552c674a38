import { BREAK, Kind, visit, type ASTNode } from 'graphql';

const seen = new WeakMap<ASTNode, boolean>();

/** Whether `node` (a document, operation or fragment) uses `@defer` or `@stream`; memoised per node. */
export function usesIncrementalDelivery(node: ASTNode): boolean {
  let found = seen.get(node);
  if (found === undefined) {
    found = false;
    visit(node, {
      [Kind.DIRECTIVE]: (directive) => {
        if (directive.name.value !== 'defer' && directive.name.value !== 'stream') return;
        found = true;
        return BREAK;
      },
    });
    seen.set(node, found);
  }
  return found;
}
