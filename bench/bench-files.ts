/**
 * The benchmark's upstream files: for each size, one file per path plus a smaller warm-up file per
 * path, all generated from a seed by the sample upstream (never held in memory whole).
 */
import { performance } from 'node:perf_hooks';
import type { ContentDigest } from '../local/upstream/content.js';
import type { UpstreamServer } from '../local/upstream/server.js';
import { ALL_PATHS, WARM_UP_BYTES, type PathName } from './bench-context.js';
import { formatSize } from './report.js';

export function fileIdFor(path: PathName | 'warm-up', sizeBytes: number, seed: number, n = 0): string {
  return `claude_gen_file_bench${sizeBytes}s${seed}${path.replace(/[^a-z]/g, '')}${n}`;
}

export function chatIdFor(seed: number): string {
  return `claude_chat_bench${seed}`;
}

/** The warm-up file that runs, unmeasured, before `path`'s measured file of this size. */
export function warmUpIdFor(path: PathName, sizeBytes: number, seed: number): string {
  return fileIdFor('warm-up', sizeBytes, seed, ALL_PATHS.indexOf(path));
}

/** Registers the files of one size (all the same bytes) and returns their digest (a pre-pass upstream). */
export async function registerContent(
  upstream: UpstreamServer,
  sizeBytes: number,
  seed: number,
): Promise<ContentDigest> {
  const started = performance.now();
  for (const path of ALL_PATHS) {
    await upstream.addFile({
      source: 'generated',
      id: fileIdFor(path, sizeBytes, seed),
      chatId: chatIdFor(seed),
      filename: `bench-${sizeBytes}.bin`,
      mimeType: 'application/octet-stream',
      content: { size: sizeBytes, seed },
    });
    await upstream.addFile({
      source: 'generated',
      id: warmUpIdFor(path, sizeBytes, seed),
      chatId: chatIdFor(seed),
      filename: 'warm-up.bin',
      mimeType: 'application/octet-stream',
      content: { size: WARM_UP_BYTES, seed: 1 },
    });
  }
  const digest = await upstream.digestOf(fileIdFor('ingest', sizeBytes, seed));
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${formatSize(sizeBytes)}: upstream content ready (digest pre-pass ${seconds.toFixed(1)} s)`);
  return digest;
}
