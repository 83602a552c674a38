import { EnvelopArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorCallbackConfiguration } from '@escape.tech/graphql-armor-types';
import { requestError } from '../errors/vocabulary.js';
import type { Plugin } from 'graphql-yoga';

/** Limits a document must stay within before anything executes. */
export type QueryLimitsOptions = {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxCost: number;
  /** Keep "Did you mean …?" hints in validation errors (development). */
  fieldSuggestions: boolean;
};

/**
 * GraphQL Armor's limits, reported as ordinary validation errors with the stable
 * code `QUERY_LIMIT_EXCEEDED`. Out of the box Armor throws from inside validation,
 * which yoga answers with HTTP 200; reported through the validation context they
 * get the GraphQL over HTTP status (400 for application/graphql-response+json).
 * The token limit runs in the parser, where there is no context: it throws a
 * coded 400 itself.
 */
export function useQueryLimits(options: QueryLimitsOptions): Plugin[] {
  const report: GraphQLArmorCallbackConfiguration = {
    propagateOnRejection: false,
    onReject: [
      (context, error) => {
        const limited = requestError('QUERY_LIMIT_EXCEEDED', {
          message: error.message.replace(/^Syntax Error: /, ''),
        });
        if (context) context.reportError(limited);
        else throw limited;
      },
    ],
  };
  return new EnvelopArmor({
    maxDepth: { n: options.maxDepth, ...report },
    maxAliases: { n: options.maxAliases, ...report },
    maxDirectives: { n: options.maxDirectives, ...report },
    maxTokens: { n: options.maxTokens, ...report },
    costLimit: { maxCost: options.maxCost, ...report },
    blockFieldSuggestion: { enabled: !options.fieldSuggestions },
  }).protect().plugins as Plugin[];
}
