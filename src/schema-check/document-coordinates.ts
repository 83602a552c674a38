import {
  getNamedType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';

/**
 * The schema coordinates a document touches (https://spec.graphql.org/draft/#sec-Schema-Coordinates).
 * Computed once per document, never per request (see use-schema-usage.ts).
 */
export type DocumentCoordinates = {
  /** `Type.field` of every field selected, introspection fields left out: what the gateway counts. */
  fields: readonly string[];
  /** The subset of `fields` marked `@deprecated`: their use is logged once per client version. */
  deprecated: readonly string[];
  /**
   * Everything a schema change can break in this document: the fields, the
   * arguments it passes (`Type.field.arg`), the types it names (fragment
   * conditions, variable types) and the directives it uses (`@name`).
   */
  all: readonly string[];
};

/**
 * Walks a document once with graphql's TypeInfo, which knows the parent type of
 * every selection, fragments included. Fields the schema does not have are
 * skipped: validation refuses such a document before it runs.
 */
export function coordinatesOf(schema: GraphQLSchema, document: DocumentNode): DocumentCoordinates {
  const fields = new Set<string>();
  const deprecated = new Set<string>();
  const others = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        // Introspection (`__typename`, `__schema` and the `__Type` fields under it) is no schema field of ours.
        if (!parent || !field || node.name.value.startsWith('__') || parent.name.startsWith('__'))
          return;
        const coordinate = `${parent.name}.${field.name}`;
        fields.add(coordinate);
        if (field.deprecationReason != null) deprecated.add(coordinate);
      },
      Argument(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        const argument = typeInfo.getArgument();
        // Directive arguments have no field: they are not schema fields of ours.
        if (!parent || !field || !argument || typeInfo.getDirective()) return;
        if (field.name.startsWith('__')) return;
        others.add(`${parent.name}.${field.name}.${node.name.value}`);
      },
      Directive(node) {
        others.add(`@${node.name.value}`);
      },
      NamedType(node) {
        if (schema.getType(node.name.value)) others.add(node.name.value);
      },
      VariableDefinition() {
        const type = typeInfo.getInputType();
        if (type) others.add(getNamedType(type).name);
      },
    }),
  );
  return {
    fields: [...fields].sort(),
    deprecated: [...deprecated].sort(),
    all: [...new Set([...fields, ...others])].sort(),
  };
}
