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
    const until = performance.now() + turnMs;
    while (performance.now() < until); // CPU, as a long task would spend it.
    setImmediate(turn);
  };
  setImmediate(turn);
  return {
    stop: () => {
      stopped = true;
    },
  };
}
