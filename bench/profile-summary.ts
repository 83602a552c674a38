// Summarises a V8 CPU profile (from BENCH_PROFILE=1 npm run bench):
//   npm run bench:profile -- bench/results/<file>.cpuprofile
// Self time by package and by function, and total (inclusive) time by function,
// each as a share of the sampled time.
import { readFileSync } from 'node:fs';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

const file = process.argv[2];
if (!file) throw new Error('usage: npm run bench:profile -- <file>.cpuprofile [rows]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);

const where = (url: string) =>
  url.includes('node_modules/')
    ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')
    : url.startsWith('node:')
      ? url
      : url.includes('.bench-build/')
        ? 'ours'
        : url || '(native)';
const nameOf = ({ callFrame: { functionName, url, lineNumber } }: ProfileNode) =>
  `${functionName || '(anonymous)'} ${url.replace(/.*(node_modules|\.bench-build)\//, '')}:${lineNumber + 1}`;

const selfByPackage = new Map<string, number>();
const selfByFunction = new Map<string, number>();
const totalByFunction = new Map<string, number>();
let sampled = 0;
const add = (map: Map<string, number>, key: string, value: number) =>
  map.set(key, (map.get(key) ?? 0) + value);
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  sampled += dt;
  const node = nodes.get(id);
  if (!node) return;
  add(selfByPackage, where(node.callFrame.url), dt);
  add(selfByFunction, nameOf(node), dt);
  // Inclusive: once per function on this sample's stack.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const name = nameOf(nodes.get(at) as ProfileNode);
    if (seen.has(name)) continue;
    add(totalByFunction, name, dt);
    seen.add(name);
  }
});
const top = (map: Map<string, number>, n: number) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, value]) => `${((100 * value) / sampled).toFixed(1).padStart(5)}%  ${key}`)
    .join('\n');
console.log(`sampled ${(sampled / 1000).toFixed(0)} ms`);
console.log(`\nself time by package\n${top(selfByPackage, 20)}`);
console.log(`\nself time by function\n${top(selfByFunction, 25)}`);
console.log(`\ntotal time by function\n${top(totalByFunction, Number(process.argv[3] ?? 60))}`);
