import type { ArchiveDeps } from '../../../shared/ingest/archive-types.js';
import type { IngestDeps } from '../../../shared/ingest/process-message.js';
import { MemoryArchiveStore } from './memory-archive-store.js';
import { MemoryFileIndex } from './memory-file-index.js';
import { MemoryIngestQueue } from './memory-ingest-queue.js';
import { recordingTelemetry } from './recording-telemetry.js';
import { ScriptedUpstream } from './scripted-upstream.js';

export const NOW_MS = Date.parse('2026-03-01T12:00:00Z');

/** The ingest use case's ports, in memory, with a fixed clock and sleeps that only record their delay. */
export function ingestHarness(opts: { maxAttempts?: number; maxReceiveCount?: number; maxUnsizedBytes?: number } = {}) {
  const index = new MemoryFileIndex();
  const store = new MemoryArchiveStore();
  const upstream = new ScriptedUpstream();
  const queue = new MemoryIngestQueue();
  const telemetry = recordingTelemetry();
  const sleeps: number[] = [];
  const archive: ArchiveDeps = {
    upstream,
    index,
    store,
    leaseMs: 960_000,
    maxAttempts: opts.maxAttempts ?? 3,
    maxUnsizedBytes: opts.maxUnsizedBytes ?? 500 * 1024 * 1024,
    log: telemetry.log,
    now: () => NOW_MS,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0,
  };
  const deps: IngestDeps = {
    archive,
    queue,
    maxReceiveCount: opts.maxReceiveCount ?? 5,
    log: telemetry.log,
    counters: telemetry.counters,
  };
  return { index, store, upstream, queue, sleeps, archive, deps, ...telemetry };
}
