import { describe, expect, it } from 'vitest';
import { timeBackToNormal } from '../bench/recovery.js';
import { noiseOf, verdict, type RowResult } from '../bench/report.js';

// The benchmark's own decisions: what counts as "no change" and as "back to normal".

const row = (peak16: number, peak64: number, cpu: number, p50: number, p99: number) =>
  ({
    peak: { 16: peak16, 64: peak64 },
    cpuMsPerPage: cpu,
    light: { p50, p99, pages: 100, maxLagMs: 0 },
  }) as RowResult;

describe('the A/A noise floor', () => {
  it('is the worst relative spread of the pair, by kind of figure', () => {
    expect(noiseOf(row(100, 200, 2, 10, 20), row(110, 190, 2.5, 10, 30))).toEqual({
      throughput: expect.closeTo(0.0909, 3) as number,
      cpu: expect.closeTo(0.2, 6) as number,
      latency: expect.closeTo(0.3333, 3) as number,
    });
  });
});

describe('verdict', () => {
  it.each([
    { value: 105, base: 100, noise: 0.1, expected: '1.05× (no change)' },
    { value: 91, base: 100, noise: 0.1, expected: '0.91× (no change)' },
    { value: 120, base: 100, noise: 0.1, expected: '1.20×' },
    { value: 80, base: 100, noise: 0.1, expected: '0.80×' },
    { value: 95, base: 100, noise: 0, expected: '0.95×' },
  ])(
    '$value against $base with noise $noise reads "$expected"',
    ({ value, base, noise, expected }) => {
      expect(verdict(value, base, noise)).toBe(expected);
    },
  );
});

describe('time back to normal after a spike ending at 1000', () => {
  it.each([
    { answers: [], expected: 0, case: 'no answers' },
    {
      answers: [
        { dueAt: 1100, normal: true },
        { dueAt: 1200, normal: true },
      ],
      expected: 0,
      case: 'every answer normal',
    },
    {
      answers: [
        { dueAt: 1300, normal: true },
        { dueAt: 1100, normal: false },
        { dueAt: 1250, normal: false },
        { dueAt: 1200, normal: true },
      ],
      expected: 250,
      case: 'the last slow answer, whatever the order they came in',
    },
    {
      answers: [
        { dueAt: 1100, normal: true },
        { dueAt: 1200, normal: false },
      ],
      expected: null,
      case: 'still slow at the end of the window',
    },
  ])('$case: $expected', ({ answers, expected }) => {
    expect(timeBackToNormal(answers, 1000)).toBe(expected);
  });
});
