/** One answer after a spike: when it was due, and whether it was a normal page. */
export type RecoveryAnswer = { dueAt: number; normal: boolean };

/**
 * How long after `spikeEnd` latency was back to normal: up to the due time of the
 * last answer that was not normal; 0 when every one was; null when the last one
 * still was not (not back within the window).
 */
export function timeBackToNormal(
  answers: readonly RecoveryAnswer[],
  spikeEnd: number,
): number | null {
  const sorted = [...answers].sort((a, b) => a.dueAt - b.dueAt);
  const lastSlow = sorted.findLastIndex((answer) => !answer.normal);
  if (lastSlow === -1) return 0;
  if (lastSlow === sorted.length - 1) return null;
  return Math.max(0, (sorted[lastSlow]?.dueAt ?? spikeEnd) - spikeEnd);
}
