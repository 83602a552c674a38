import { buildSchema, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { coordinatesOf } from '../src/schema-check/document-coordinates.js';
import { touches } from '../src/schema-check/classify-changes.js';

const schema = buildSchema(/* GraphQL */ `
  type Query {
    shelf(id: ID!): Shelf
    node(id: ID!): Node
  }
  interface Node {
    id: ID!
  }
  type Shelf implements Node {
    id: ID!
    books(first: Int): [Book!]!
    label: String @deprecated(reason: "Use name.")
  }
  type Book implements Node {
    id: ID!
    title: String!
  }
`);

describe('coordinatesOf', () => {
  it('names every field selected through fragments, with its parent type, and nothing of introspection', () => {
    const coordinates = coordinatesOf(
      schema,
      parse(/* GraphQL */ `
        query Shelf($id: ID!) {
          __typename
          shelf(id: $id) {
            ...ShelfCard
            books(first: 3) @include(if: true) {
              ... on Book {
                title
              }
            }
          }
          node(id: "b-1") {
            id
          }
          __type(name: "Book") {
            name
          }
        }
        fragment ShelfCard on Shelf {
          id
          label
        }
      `),
    );
    expect(coordinates.fields).toEqual([
      'Book.title',
      'Node.id',
      'Query.node',
      'Query.shelf',
      'Shelf.books',
      'Shelf.id',
      'Shelf.label',
    ]);
    expect(coordinates.deprecated).toEqual(['Shelf.label']);
    expect(coordinates.all).toEqual(
      expect.arrayContaining([
        'Query.shelf.id',
        'Shelf.books.first',
        'Shelf',
        'Book',
        'ID',
        '@include',
      ]),
    );
    expect(coordinates.all.filter((coordinate) => coordinate.includes('__'))).toEqual([]);
  });
});

describe('touches', () => {
  it.each([
    ['Book.title', 'Book.title', true],
    ['Book', 'Book.title', true],
    ['Shelf.books.first', 'Shelf.books', true],
    ['Book.subtitle', 'Book', false],
    ['Book.subtitle', 'Book.title', false],
    ['Book.titles', 'Book.title', false],
  ])('a change at %s touches a use of %s: %s', (changed, used, expected) => {
    expect(touches(changed, used)).toBe(expected);
  });
});
