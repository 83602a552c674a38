// npm run bench:report: renders the last run's report again from
// bench/results/last-run.json (after a change to bench/report.ts or to the
// lever log), without measuring anything.
import { readFileSync } from 'node:fs';
import { LAST_RUN, writeReport, type RecordedRun } from './write-report.js';

const run = JSON.parse(readFileSync(LAST_RUN, 'utf8')) as RecordedRun;
const { out } = writeReport(run);
console.log(`Rendered \`${run.info.command}\` of ${run.info.date} to ${out.pathname}`);
