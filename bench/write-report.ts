// Writes one run's report: BENCHMARKS.md (the report, then the lever log) for a
// whole run at full length, bench/results/BENCHMARKS.partial.md for anything
// else, and the run's raw figures to bench/results/last-run.json, from which
// `npm run bench:report` renders the report again without measuring.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { renderReport, type RunInfo, type ScenarioResult } from './report.js';

export type RecordedRun = { info: RunInfo; scenarios: ScenarioResult[] };

/** The command of a whole run: no BENCH_* knob. */
export const WHOLE_RUN = 'npm run bench';

const root = new URL('..', import.meta.url);
export const RESULTS = new URL('bench/results/', root);
export const LAST_RUN = new URL('last-run.json', RESULTS);

/** Writes the report; returns where, and the report itself. */
export function writeReport(run: RecordedRun): { out: URL; report: string } {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(LAST_RUN, JSON.stringify(run, null, 1));
  const report = renderReport(run.scenarios, run.info);
  const log = readFileSync(new URL('bench/levers.md', root), 'utf8');
  // Only a whole run at full length is the record; anything shorter stays local.
  const out =
    run.info.command === WHOLE_RUN
      ? new URL('BENCHMARKS.md', root)
      : new URL('BENCHMARKS.partial.md', RESULTS);
  writeFileSync(out, `${report}\n${log}`);
  return { out, report };
}
