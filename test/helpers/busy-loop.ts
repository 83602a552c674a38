/**
 * Keeps this process's event loop busy, as CPU-heavy work would: one turn after
 * another, each spends `turnMs` of CPU in a `setImmediate` callback, until
 * `stop()`. Between turns the loop still runs timers and I/O, so servers in
 * the process keep answering, only late: a loop that never runs dry.
 */
export function keepLoopBusy(turnMs: number): { stop(): void } {
  let stopped = false;
  const turn = () => {
    if (stopped) return;
    spendCpu(turnMs);
    setImmediate(turn);
  };
  setImmediate(turn);
  return {
    stop: () => {
      stopped = true;
    },
  };
}

/** Spends `ms` of CPU in this turn of the loop, as a page's work or a long task would. */
export function spendCpu(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}
