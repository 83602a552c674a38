import { describe, expect, it } from 'vitest';
import { routeOf } from '../src/inbound/routes.js';

// The route table: exact paths, the query string never deciding the route.

describe('routing a request target', () => {
  it.each([
    ['/graphql', 'graphql', '/graphql'],
    ['/graphql?query=%7Bx%7D', 'graphql', '/graphql?query=%7Bx%7D'],
    ['http://x/graphql', 'graphql', '/graphql'],
    ['HTTP://example.com:4000/graphql?a=1', 'graphql', '/graphql?a=1'],
    ['/health', 'health', '/health'],
    ['/health?x=/graphql', 'health', '/health'],
    ['/ready', 'ready', '/ready'],
    ['/metrics?/graphql', 'metrics', '/metrics'],
  ])('routes %s to %s, read as %s', (target, name, rewritten) => {
    expect(routeOf(target)).toMatchObject({ name, target: rewritten });
  });

  it.each([
    '/graphql/',
    '//graphql',
    '/./graphql',
    '/x/graphql',
    '/x/../graphql',
    '/%67raphql',
    '/GRAPHQL',
    '/graphql#x',
    '/',
    '*',
    'example.com:443',
    'http://x//graphql',
    '/constructor',
    '/__proto__',
  ])('serves nothing at %s', (target) => {
    expect(routeOf(target)).toBeUndefined();
  });

  it('re-serialises the query so that none ends in a path yoga matches by suffix', () => {
    expect(routeOf('/graphql?x=/health')?.target).toBe('/graphql?x=%2Fhealth');
    expect(routeOf('/graphql?x=/ready')?.target.endsWith('/ready')).toBe(false);
  });
});
