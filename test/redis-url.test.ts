import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { parseRedisUrl } from '../src/redis/redis-url.js';

describe('REDIS_URL', () => {
  it.each([
    ['redis://127.0.0.1:6379/2', { kind: 'server', url: 'redis://127.0.0.1:6379/2' }],
    [
      'rediss://user:pw@cache.internal:6380',
      { kind: 'server', url: 'rediss://user:pw@cache.internal:6380' },
    ],
    [
      'redis-sentinel://s1:26379,s2:26380,s3/mymaster',
      {
        kind: 'sentinel',
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
          { host: 's3', port: 26379 },
        ],
        name: 'mymaster',
        db: 0,
      },
    ],
    [
      'redis-sentinel://app:p%40ss@10.0.0.1:26379,[::1]:26379/cache?db=3&sentinelPassword=s3cret',
      {
        kind: 'sentinel',
        sentinels: [
          { host: '10.0.0.1', port: 26379 },
          { host: '::1', port: 26379 },
        ],
        name: 'cache',
        db: 3,
        username: 'app',
        password: 'p@ss',
        sentinelPassword: 's3cret',
      },
    ],
    [
      'redis-cluster://:pw@n1:7000,n2:7001',
      {
        kind: 'cluster',
        nodes: [
          { host: 'n1', port: 7000 },
          { host: 'n2', port: 7001 },
        ],
        password: 'pw',
      },
    ],
  ])('reads %s', (url, target) => {
    expect(parseRedisUrl(url)).toEqual(target);
  });

  it.each([
    ['http://cache:6379', /must be one of/],
    ['redis-sentinel://s1:26379,s2:26379', /needs the master name/],
    ['redis-sentinel://s1:26379/m?db=x', /db must be a database number/],
    ['redis-cluster://n1:7000/1', /only database 0/],
    ['redis-cluster://n1:7000,,n2:7001', /is not a host:port/],
    ['redis-cluster://n1:99999', /is not a host:port/],
  ])('refuses %s at startup, naming REDIS_URL', (url, reason) => {
    expect(() => loadConfig({ REDIS_URL: url })).toThrow(/REDIS_URL: /);
    expect(() => loadConfig({ REDIS_URL: url })).toThrow(reason);
  });
});
