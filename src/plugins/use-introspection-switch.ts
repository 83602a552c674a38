import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Turns schema introspection off (graphql-js's own validation rule), as production
 * does unless INTROSPECTION=true: clients ship their documents, they need not
 * discover the schema at run time.
 */
export function useIntrospectionSwitch({ enabled }: { enabled: boolean }): Plugin {
  if (enabled) return {};
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
