import type { Logger } from '../logger.js';
import type { AdmissionMetrics } from '../observability/metrics.js';
import type { ShedReason } from './admission-decision.js';

/** Options of `createShedReporter`. */
export type ShedReporterOptions = {
  metrics: AdmissionMetrics;
  logger: Logger;
  /** Shedding has stopped once nothing was shed for this long, in ms. Default 1000. */
  quietMs?: number;
};

/** Where every shed request is reported, whichever part shed it. */
export type ShedReporter = {
  shed(reason: ShedReason): void;
  close(): void;
};

/**
 * Counts shed requests (by reason) and logs an episode, not each request: one
 * line when shedding starts, one when nothing has been shed for `quietMs`, with
 * how many were shed and why. At saturation admitted and shed requests
 * alternate, so "stopped" waits for a quiet period rather than the next admitted
 * request; its timer runs only during an episode and never holds the process.
 */
export function createShedReporter({
  metrics,
  logger,
  quietMs = 1000,
}: ShedReporterOptions): ShedReporter {
  let episode:
    | {
        startedAt: number;
        lastShedAt: number;
        byReason: Partial<Record<ShedReason, number>>;
        timer: NodeJS.Timeout;
      }
    | undefined;

  const endIfQuiet = () => {
    if (!episode) return;
    const now = performance.now();
    if (now - episode.lastShedAt < quietMs) return;
    clearInterval(episode.timer);
    const shed = Object.values(episode.byReason).reduce((sum, count) => sum + count, 0);
    logger.info({
      msg: 'load shedding stopped',
      shed,
      byReason: episode.byReason,
      durationMs: Math.round(episode.lastShedAt - episode.startedAt),
    });
    episode = undefined;
  };

  return {
    shed(reason) {
      metrics.shed(reason);
      const now = performance.now();
      if (!episode) {
        logger.warn({ msg: 'load shedding started', reason });
        const timer = setInterval(endIfQuiet, quietMs);
        timer.unref();
        episode = { startedAt: now, lastShedAt: now, byReason: {}, timer };
      }
      episode.lastShedAt = now;
      episode.byReason[reason] = (episode.byReason[reason] ?? 0) + 1;
    },
    close() {
      if (episode) clearInterval(episode.timer);
      episode = undefined;
    },
  };
}
