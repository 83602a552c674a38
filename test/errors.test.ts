import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { toGraphQLError } from '../src/errors/to-graphql-error.js';
import { UpstreamError } from '../src/errors/upstream-error.js';
import { badUserInput } from '../src/errors/vocabulary.js';

const located = (original: Error) =>
  new GraphQLError(original.message, { path: ['homepage', 'promo'], originalError: original });

describe('toGraphQLError', () => {
  it('turns an upstream failure into a coded error at its path, without the internal message', () => {
    const error = toGraphQLError(
      located(
        new UpstreamError(
          'promo',
          'UPSTREAM_TIMEOUT',
          'GET http://10.0.0.1/promotions/active: no answer',
        ),
      ),
      'Unexpected error.',
    ) as GraphQLError;

    expect(error.message).toBe('The promo service did not answer in time.');
    expect(error.path).toEqual(['homepage', 'promo']);
    expect(error.extensions).toEqual({ code: 'UPSTREAM_TIMEOUT', service: 'promo' });
  });

  it('masks an unexpected error, keeping only its path', () => {
    const error = toGraphQLError(
      located(new TypeError("Cannot read properties of undefined (reading 'secret')")),
      'Unexpected error.',
    ) as GraphQLError;

    expect(error.message).toBe('Unexpected error.');
    expect(error.path).toEqual(['homepage', 'promo']);
    expect(error.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
  });

  it('masks a non-GraphQL error thrown outside execution', () => {
    const error = toGraphQLError(new Error('database password is hunter2'), 'Unexpected error.');
    expect(error.message).toBe('Unexpected error.');
  });

  it('keeps errors raised on purpose, such as bad user input', () => {
    const error = badUserInput('limit must be between 1 and 50');
    expect(toGraphQLError(error, 'Unexpected error.')).toBe(error);
  });
});
