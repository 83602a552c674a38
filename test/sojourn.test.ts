import { describe, expect, it } from 'vitest';
import { createSojourn } from '../src/inbound/sojourn.js';

// The sojourn reading (src/inbound/sojourn.ts) on a hand-driven clock.
function reading() {
  let clock = 0;
  const sojourn = createSojourn({ intervalMs: 100, now: () => clock });
  return {
    sojourn,
    at(ms: number, ...waits: number[]) {
      clock = ms;
      for (const wait of waits) sojourn.record(wait);
    },
  };
}

describe('the sojourn of admitted requests', () => {
  it('reads the smallest wait of the last completed interval', () => {
    const { sojourn, at } = reading();
    at(10, 400, 250, 300);
    expect(sojourn.currentMs()).toBe(0); // the interval is not over yet
    at(120);
    expect(sojourn.currentMs()).toBe(250);
  });

  it('reads no queue when a burst drained within the interval', () => {
    const { sojourn, at } = reading();
    at(10, 900, 700, 2);
    at(120);
    expect(sojourn.currentMs()).toBe(2);
  });

  it('takes one slow request alone for no queue', () => {
    const { sojourn, at } = reading();
    at(10, 1200, 1100);
    at(120);
    expect(sojourn.currentMs()).toBe(0);
  });

  it('reads 0 once an interval passes with no request reaching execution', () => {
    const { sojourn, at } = reading();
    at(10, 400, 400, 400);
    at(120);
    expect(sojourn.currentMs()).toBe(400);
    at(250);
    expect(sojourn.currentMs()).toBe(0);
  });

  it('reads 0 after a silence longer than an interval, whatever came before it', () => {
    const { sojourn, at } = reading();
    at(10, 400, 400, 400);
    at(450);
    expect(sojourn.currentMs()).toBe(0);
  });
});
