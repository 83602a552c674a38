import { describe, expect, it } from 'vitest';
import { parseUsage, UsageFileError } from '../src/schema-check/usage-file.js';

describe('parseUsage', () => {
  it('sums a federation dump across replicas, with escapes, timestamps and other metrics skipped', () => {
    const samples = parseUsage(
      [
        '# TYPE bff_schema_field_requests_total untyped',
        'bff_schema_field_requests_total{client="ios",client_version="3.1",coordinate="Book.title",instance="10.0.0.1:4000",job="bff"} 5 1733300000000',
        'bff_schema_field_requests_total{client="ios",client_version="3.1",coordinate="Book.title",instance="10.0.0.2:4000",job="bff"} 7 1733300000000',
        'bff_schema_field_requests_total{ coordinate="Book.id", client="we\\"b}", }  1e3',
        'bff_http_requests_total{client="ios",client_version="3.1",status="200"} 12',
        '',
      ].join('\n'),
    );
    expect(samples).toEqual([
      { coordinate: 'Book.title', client: 'ios', version: '3.1', requests: 12 },
      { coordinate: 'Book.id', client: 'we"b}', version: 'none', requests: 1000 },
    ]);
  });

  it.each([
    [
      'no sample of the metric',
      'bff_http_requests_total 3\n',
      /no bff_schema_field_requests_total samples/,
    ],
    [
      'a sample without a coordinate',
      'bff_schema_field_requests_total{client="ios"} 3\n',
      /line 1: .*coordinate/,
    ],
    [
      'a value that is no count',
      'bff_schema_field_requests_total{coordinate="A.b"} many\n',
      /line 1: not a count/,
    ],
    [
      'an unterminated label',
      'bff_schema_field_requests_total{coordinate="A.b} 3\n',
      /line 1: unterminated/,
    ],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseUsage(text)).toThrow(UsageFileError);
    expect(() => parseUsage(text)).toThrow(message);
  });
});
