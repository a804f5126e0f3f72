/**
 * `tsx bench/cpu-profile-summary.ts FILE.cpuprofile [N]`: where a V8 CPU profile (`node --cpu-prof`,
 * as `npm run bench:export -- --cpu-prof-dir DIR` writes) spent its time: the N functions (default 25)
 * with the most self time, and the share of idle time (the process waiting on I/O). A profile is the
 * V8 inspector's JSON: nodes with a call frame and child ids, samples naming a node each, and the
 * microseconds between samples.
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: tsx bench/cpu-profile-summary.ts FILE.cpuprofile [N]');
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<string, number>();
let totalUs = 0;
for (const [i, id] of profile.samples.entries()) {
  const delta = profile.timeDeltas[i] ?? 0;
  totalUs += delta;
  const frame = byId.get(id)?.callFrame;
  const where = frame?.url
    ? `${frame.url.replace(/^.*\/(node_modules|work\/wt\/[^/]+)\//, '')}:${frame.lineNumber + 1}`
    : '';
  const name = `${frame?.functionName || '(anonymous)'} ${where}`.trim();
  selfUs.set(name, (selfUs.get(name) ?? 0) + delta);
}
const top = [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25));
console.log(`${(totalUs / 1e6).toFixed(1)} s sampled`);
for (const [name, us] of top)
  console.log(`${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(2).padStart(7)} s  ${name}`);
