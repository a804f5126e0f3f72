/**
 * Summarises V8 CPU profiles of a bundle's cold import (written by `infra/measure-bundle.ts
 * --cpu-prof DIR`) by where the time went: each sample's running function is mapped through the
 * bundle's source map (index.mjs.map next to index.mjs) to its source file, and files are grouped by
 * npm package (`@aws-sdk/client-s3`, `zod`, …) or, for the project's own code, by folder. Node's own
 * modules are one group per module (`node:internal/…`), and V8's `(garbage collector)`, `(program)`
 * and `(idle)` keep their names. Self time only: a group is what its own code ran, not what it called.
 *
 *   npx tsx infra/profile-by-source.ts /tmp/profiles/ingest-*.cpuprofile [--by file] [--top 30]
 *
 * With several profiles (say, ten cold imports), each group's figure is its median over them.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const { values: options, positionals: files } = parseArgs({
  allowPositionals: true,
  options: { by: { type: 'string' }, top: { type: 'string' } },
});
const byFile = options.by === 'file';
const top = Number(options.top ?? 30);

const ProfileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({
        functionName: z.string(),
        url: z.string(),
        lineNumber: z.number(),
        columnNumber: z.number(),
      }),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
type CallFrame = z.infer<typeof ProfileSchema>['nodes'][number]['callFrame'];

const maps = new Map<string, SourceMap | undefined>();
function sourceMapOf(url: string): SourceMap | undefined {
  if (!maps.has(url)) {
    let map: SourceMap | undefined;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')));
    } catch {
      map = undefined;
    }
    maps.set(url, map);
  }
  return maps.get(url);
}

/** The group a frame's time counts to. */
function groupOf(frame: CallFrame): string {
  if (frame.url === '') return frame.functionName || '(anonymous)';
  if (!frame.url.startsWith('file:')) return frame.url;
  const map = sourceMapOf(frame.url);
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  const source = entry && 'originalSource' in entry ? entry.originalSource : undefined;
  if (!source) return `${frame.url.split('/').slice(-2).join('/')} (unmapped)`;
  const path = source.replace(/^(\.\.\/)+/, '');
  if (byFile) return path;
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules >= 0) {
    const parts = path.slice(inModules + 'node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
  }
  return path.split('/').slice(0, -1).join('/') || path;
}

function summarise(file: string): Map<string, number> {
  const profile = ProfileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const groupOfNode = new Map(profile.nodes.map((n) => [n.id, groupOf(n.callFrame)]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const group = groupOfNode.get(id) ?? '(unknown)';
    totals.set(group, (totals.get(group) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return totals;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

if (files.length === 0) throw new Error('name one or more .cpuprofile files');
const summaries = files.map(summarise);
const groups = new Set(summaries.flatMap((s) => [...s.keys()]));
const rows = [...groups]
  .map((group) => ({ group, ms: median(summaries.map((s) => s.get(group) ?? 0)) }))
  .sort((a, b) => b.ms - a.ms);
const total = median(summaries.map((s) => [...s.values()].reduce((a, b) => a + b, 0)));
console.log(`${files.length} profile(s), median total ${total.toFixed(1)} ms (self time, sampled)\n`);
console.log('| ms (median) | share | group |\n| ---: | ---: | --- |');
for (const { group, ms } of rows.slice(0, top)) {
  console.log(`| ${ms.toFixed(1)} | ${((100 * ms) / total).toFixed(0)}% | ${group} |`);
}
