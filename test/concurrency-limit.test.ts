import { describe, expect, it } from 'vitest';
import { createConcurrencyLimit } from '../src/inbound/concurrency-limit.js';

// The adaptive limit on its own, on a clock and a wait reading the test moves:
// aim 50 ms, adjusted every 100 ms, held 300 ms after a cut, late past 500 ms.
function limitUnderTest({
  ceiling = 1000,
  floor = 8,
  steadyLateMs,
}: { ceiling?: number; floor?: number; steadyLateMs?: number } = {}) {
  let at = 0;
  let waitMs = 0;
  let busyShare = 0;
  const limit = createConcurrencyLimit({
    aimMs: 50,
    readWaitMs: () => waitMs,
    readBusy: () => busyShare,
    ceiling,
    intervalMs: 100,
    holdMs: 300,
    lateMs: 500,
    ...(steadyLateMs !== undefined && { steadyLateMs }),
    floor,
    now: () => at,
  });
  return {
    limit,
    /**
     * One interval passes with `inFlight` requests at its decisions, some
     * refused, and `answered` answered (default 100: the pace drains any
     * queue here within 500 ms), all late or all in time (default: late).
     */
    interval({
      inFlight,
      atEnd = inFlight,
      decisions = true,
      wait,
      refused = false,
      late = true,
      answered = 100,
      busy = 0,
    }: {
      inFlight: number;
      /** In flight when the interval ends (default `inFlight`, the most at its decisions). */
      atEnd?: number;
      /** Whether any request arrived in it (default true). */
      decisions?: boolean;
      wait: number;
      refused?: boolean;
      late?: boolean;
      answered?: number;
      /** The share of the interval the loop was at work. */
      busy?: number;
    }) {
      waitMs = wait;
      busyShare = busy;
      if (decisions) limit.record(inFlight, refused);
      for (let i = 0; i < answered; i++) limit.finished(late ? 600 : 100);
      at += 100;
      return limit.current(atEnd);
    },
  };
}

describe('the adaptive concurrency limit', () => {
  it('starts at the ceiling and stays there while the wait is under its aim, however many are in flight', () => {
    const { limit, interval } = limitUnderTest();
    expect(limit.current(0)).toBe(1000);
    // Slow upstreams: hundreds in flight, nothing queues in the process.
    for (let i = 0; i < 10; i++) expect(interval({ inFlight: 900, wait: 2 })).toBe(1000);
  });

  it('cuts to what was in flight, in proportion to how far past its aim the wait is', () => {
    const { interval } = limitUnderTest();
    expect(interval({ inFlight: 200, wait: 80 })).toBe(125); // 200 × 50/80
  });

  it('cuts to no more than the process answers within the late mark at its present pace', () => {
    const { interval } = limitUnderTest();
    // 20 answered in 100 ms: 100 drain within 500 ms; past the aim by 2×, half of that.
    expect(interval({ inFlight: 400, wait: 100, answered: 20 })).toBe(50);
  });

  it('is cut by a tenth when the loop had no idle moment, what is in flight grew two intervals running and pages run late, the wait under its aim', () => {
    const { interval } = limitUnderTest();
    expect(interval({ inFlight: 100, wait: 10, busy: 0.99 })).toBe(1000);
    expect(interval({ inFlight: 200, wait: 10, busy: 0.99 })).toBe(180);
  });

  it('is not cut for a loop with no idle moment while what is in flight holds steady, as a closed loop of clients at full use', () => {
    const { interval } = limitUnderTest();
    for (let i = 0; i < 5; i++)
      expect(interval({ inFlight: 256, wait: 10, busy: 0.99 })).toBe(1000);
  });

  it('is not cut for a loop with no idle moment while pages finish in time, and grows a tenth at a time from a queue that takes a while to answer', () => {
    const { interval } = limitUnderTest();
    expect(interval({ inFlight: 200, wait: 10, busy: 0.99, late: false })).toBe(1000);
    const cut = limitUnderTest();
    expect(cut.interval({ inFlight: 200, wait: 100 })).toBe(100);
    // 100 in flight at 50 answered per 100 ms: 200 ms to answer them all.
    for (let i = 0; i < 5; i++) {
      expect(cut.interval({ inFlight: 100, wait: 10, busy: 0.99, late: false, answered: 50 })).toBe(
        100,
      );
    }
    // Refusing, with the loop still at work and that queue: a tenth more, not
    // twice as many.
    expect(
      cut.interval({
        inFlight: 100,
        wait: 10,
        busy: 0.99,
        late: false,
        refused: true,
        answered: 50,
      }),
    ).toBe(110);
  });

  describe('while it refuses and what it admits is answered in time', () => {
    /** Cut to 100, then held past its hold. */
    function cutTo100() {
      const under = limitUnderTest();
      expect(under.interval({ inFlight: 200, wait: 100 })).toBe(100);
      for (let i = 0; i < 3; i++) {
        expect(under.interval({ inFlight: 100, wait: 60, late: false, answered: 50 })).toBe(100);
      }
      return under;
    }
    // Refusing, with the wait between half its aim and its aim and a loop at
    // work: the rule that doubles on an idle loop stays out of it.
    const refusing = { inFlight: 100, wait: 40, busy: 0.99, refused: true };

    it("doubles while the queue is answered within a quarter of the late mark, as after a closed loop's fill was cut", () => {
      const { interval } = cutTo100();
      // 100 in flight at 100 answered per 100 ms: 100 ms to answer them all.
      expect(interval({ ...refusing, late: false })).toBe(200);
      expect(interval({ ...refusing, inFlight: 200, late: false, answered: 200 })).toBe(400);
    });

    it('grows by a tenth once its own pace has fallen, however high its average', () => {
      const { interval } = limitUnderTest();
      expect(interval({ inFlight: 200, wait: 100 })).toBe(100);
      for (let i = 0; i < 3; i++) {
        expect(interval({ inFlight: 100, wait: 60, late: false })).toBe(100);
      }
      // 50 answered with 100 in flight: 200 ms at this interval's pace (114 at the average).
      expect(interval({ ...refusing, late: false, answered: 50 })).toBe(110);
    });

    it('grows by a tenth once a page runs late', () => {
      const { limit, interval } = cutTo100();
      limit.finished(600);
      expect(interval({ ...refusing, late: false })).toBe(110);
    });

    it('grows by a tenth while the queue takes longer than a quarter of the late mark', () => {
      const { interval } = cutTo100();
      // 100 in flight at 30 answered per 100 ms: 333 ms (the average, 61, is not used here).
      expect(interval({ ...refusing, late: false, answered: 30 })).toBe(110);
    });

    it('grows by a tenth on fewer answers than its floor', () => {
      const { interval } = limitUnderTest();
      expect(interval({ inFlight: 200, wait: 100 })).toBe(100);
      for (let i = 0; i < 3; i++) {
        expect(interval({ inFlight: 7, wait: 60, late: false, answered: 7 })).toBe(100);
      }
      expect(interval({ ...refusing, inFlight: 7, late: false, answered: 7 })).toBe(110);
    });
  });

  it('reads one interval that answers few (a pause) at its average pace: no queue to cut for', () => {
    const { interval } = limitUnderTest();
    for (let i = 0; i < 3; i++) {
      expect(interval({ inFlight: 200, wait: 10, busy: 0.5, late: false })).toBe(1000);
    }
    // The wait past its aim, 20 answered: 200 in flight would take 1,000 ms at
    // this interval's pace, 250 ms at the average (80 an interval).
    expect(interval({ inFlight: 200, wait: 100, late: false, answered: 20 })).toBe(1000);
  });

  it('sizes a cut by its average pace when one interval answers few (a pause), not by that interval alone', () => {
    const { interval } = limitUnderTest();
    for (let i = 0; i < 3; i++) {
      expect(interval({ inFlight: 200, wait: 10, busy: 0.5, late: false })).toBe(1000);
    }
    // A pause: 20 answered, the wait past its aim. Its own pace would drain 100
    // pages within the late mark; the average (80 an interval) drains 400.
    expect(interval({ inFlight: 400, wait: 100, answered: 20 })).toBe(200);
  });

  it('is cut before any page is answered late, once what is in flight would take past the late mark at the present pace', () => {
    const { interval } = limitUnderTest();
    // A queue growing, then 400 in flight at 50 answered per 100 ms: 800 ms to answer them all.
    expect(interval({ inFlight: 200, wait: 10, busy: 0.99, late: false, answered: 50 })).toBe(1000);
    expect(interval({ inFlight: 400, wait: 10, busy: 0.99, late: false, answered: 50 })).toBe(225);
    // The same queue with idle moments in the loop: pages waiting on upstreams.
    const idle = limitUnderTest();
    for (const inFlight of [200, 400]) {
      expect(idle.interval({ inFlight, wait: 10, busy: 0.6, late: false, answered: 50 })).toBe(
        1000,
      );
    }
  });

  it('is not cut for late pages while the loop has idle moments and no standing wait (slow upstreams)', () => {
    const { interval } = limitUnderTest();
    for (let i = 0; i < 5; i++) expect(interval({ inFlight: 900, wait: 2, busy: 0.6 })).toBe(1000);
  });

  it('cuts by a tenth at least and by half at most', () => {
    const slightly = limitUnderTest();
    expect(slightly.interval({ inFlight: 200, wait: 51 })).toBe(180);
    const far = limitUnderTest();
    expect(far.interval({ inFlight: 200, wait: 5000 })).toBe(100);
  });

  it('cuts once per reading window, not at every interval the reading still shows the queue', () => {
    const { interval } = limitUnderTest();
    expect(interval({ inFlight: 200, wait: 100 })).toBe(100);
    expect(interval({ inFlight: 100, wait: 100 })).toBe(100);
    expect(interval({ inFlight: 100, wait: 100 })).toBe(100);
    expect(interval({ inFlight: 100, wait: 100 })).toBe(50); // 300 ms after the first cut
  });

  it('is not cut while pages finish in time, however long the wait', () => {
    const { interval } = limitUnderTest();
    for (let i = 0; i < 5; i++)
      expect(interval({ inFlight: 200, wait: 100, late: false })).toBe(1000);
  });

  it('is cut when more than one page in twenty runs late', () => {
    const { limit, interval } = limitUnderTest();
    // With the hundred in time each interval brings: 5 late of 100, then 6 of 100.
    for (let i = 0; i < 5; i++) limit.finished(600);
    expect(interval({ inFlight: 200, wait: 100, late: false, answered: 95 })).toBe(1000);
    for (let i = 0; i < 6; i++) limit.finished(600);
    expect(interval({ inFlight: 200, wait: 100, late: false, answered: 94 })).toBe(100);
  });

  describe('with a later mark while what is in flight holds steady (800 ms)', () => {
    const steadyLateMs = 800;

    it('is not cut for pages past the late mark but inside the steady one, as a closed loop of clients at full use', () => {
      const { interval } = limitUnderTest({ steadyLateMs });
      // Filled once, then pages of 600 ms, 256 in flight at 100 answered per
      // interval (256 ms to answer them all).
      expect(interval({ inFlight: 256, wait: 100, late: false })).toBe(1000);
      for (let i = 0; i < 5; i++) expect(interval({ inFlight: 256, wait: 100 })).toBe(1000);
    });

    it("reads growth from each interval's peak: a closed loop's waves of answers hold steady", () => {
      const { interval } = limitUnderTest({ steadyLateMs });
      expect(interval({ inFlight: 256, wait: 100, late: false })).toBe(1000);
      // Pages of 600 ms answered in waves: in flight at each interval's end
      // swings from 130 to 256 while every interval reaches 256.
      for (const atEnd of [130, 200, 256, 130, 200, 256]) {
        expect(interval({ inFlight: 256, atEnd, wait: 100 })).toBe(1000);
      }
    });

    it('is cut for pages past the steady mark', () => {
      const { limit, interval } = limitUnderTest({ steadyLateMs });
      expect(interval({ inFlight: 256, wait: 100, late: false })).toBe(1000);
      for (let i = 0; i < 10; i++) limit.finished(900);
      expect(interval({ inFlight: 256, wait: 100, answered: 90 })).toBe(128);
    });

    it('is cut at the late mark while what is in flight grows', () => {
      const { interval } = limitUnderTest({ steadyLateMs });
      expect(interval({ inFlight: 100, wait: 100, late: false })).toBe(1000);
      expect(interval({ inFlight: 100, wait: 100 })).toBe(1000);
      expect(interval({ inFlight: 200, wait: 100 })).toBe(100);
    });

    it('is cut at the late mark while it refuses', () => {
      const { limit, interval } = limitUnderTest({ steadyLateMs });
      expect(interval({ inFlight: 256, wait: 100, late: false })).toBe(1000);
      for (let i = 0; i < 10; i++) limit.finished(900);
      expect(interval({ inFlight: 256, wait: 100, answered: 90 })).toBe(128);
      // Held for 300 ms, then refusing with pages of 600 ms: cut again.
      for (let i = 0; i < 2; i++)
        expect(interval({ inFlight: 128, wait: 100, late: false, refused: true })).toBe(128);
      expect(interval({ inFlight: 128, wait: 100, refused: true })).toBe(64);
    });
  });

  it('is cut from what was in flight as an interval began when no request arrived in it (a pause)', () => {
    const { interval } = limitUnderTest();
    expect(interval({ inFlight: 256, wait: 10, late: false })).toBe(1000);
    // The process pauses, then answers all 256 at once, late, and nothing arrives:
    // cut from 256 (at most 1,280 answered within the late mark), halved.
    expect(interval({ inFlight: 0, atEnd: 0, decisions: false, wait: 1000, answered: 256 })).toBe(
      128,
    );
  });

  it('never goes below its floor', () => {
    const { interval } = limitUnderTest({ floor: 8 });
    expect(interval({ inFlight: 10, wait: 5000 })).toBe(8);
  });

  it('grows by a tenth while it refuses requests and the wait is between half its aim and its aim', () => {
    const { interval } = limitUnderTest();
    expect(interval({ inFlight: 200, wait: 100 })).toBe(100);
    // Pages running late: no doubling (the test just above).
    expect(interval({ inFlight: 100, wait: 40, refused: true, late: true })).toBe(110);
    expect(interval({ inFlight: 110, wait: 40, refused: true, late: true })).toBe(121);
    // Not refusing anything: nothing to grow for.
    expect(interval({ inFlight: 50, wait: 40 })).toBe(121);
  });

  it('doubles back to the ceiling while the wait is under half its aim', () => {
    const { interval } = limitUnderTest({ ceiling: 300 });
    expect(interval({ inFlight: 200, wait: 100 })).toBe(100);
    expect(interval({ inFlight: 20, wait: 10 })).toBe(200);
    expect(interval({ inFlight: 20, wait: 10 })).toBe(300);
    expect(interval({ inFlight: 20, wait: 10 })).toBe(300);
  });

  it('has no ceiling at Infinity, and cuts from what was in flight', () => {
    const { limit, interval } = limitUnderTest({ ceiling: Number.POSITIVE_INFINITY });
    expect(limit.current(0)).toBe(Number.POSITIVE_INFINITY);
    expect(interval({ inFlight: 64, wait: 100 })).toBe(32);
  });
});
