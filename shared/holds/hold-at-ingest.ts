import type { ArchivedRecord } from '../contracts/file-records.js';
import type { LegalHoldEntry, Matter } from '../contracts/holds.js';
import { inScope } from '../contracts/holds.js';
import type { HeldFiles, HeldVersion, LegalHoldSwitch, MatterStore } from './ports.js';

/**
 * Holding a file as it is archived, when it falls in an active matter's scope: the ingest path asks
 * after the object is committed and before the record is written, so the record never shows a copy
 * without its holds. The active matters are read once per invocation (one Query of the matters'
 * partition), not once per file.
 */
export interface IngestHolds {
  /** The active matters, read at most once per invocation. */
  activeMatters(): Promise<Matter[]>;
  legalHolds: LegalHoldSwitch;
  /** Records a matter on an archived record (a copy already archived that a job brought into scope). */
  files: Pick<HeldFiles, 'addHold'>;
}

/** An `activeMatters` that reads the store on its first call and answers the same list after. */
export function activeMattersOnce(store: Pick<MatterStore, 'list'>): () => Promise<Matter[]> {
  let pending: Promise<Matter[]> | undefined;
  return () => {
    pending ??= store.list().then((all) => all.filter((m) => m.status === 'active'));
    // A failed read is not cached: the next file asks again.
    pending.catch(() => {
      pending = undefined;
    });
    return pending;
  };
}

/**
 * The holds a newly committed copy gets: the S3 legal hold turned on (once, whatever the number of
 * matters) and one entry per matter for the record. Undefined when no active matter selects the file.
 */
export async function holdNewCopy(
  record: Omit<ArchivedRecord, 'legalHolds'>,
  version: HeldVersion,
  holds: IngestHolds,
  at: string,
  signal: AbortSignal,
): Promise<Record<string, LegalHoldEntry> | undefined> {
  const matching = (await holds.activeMatters()).filter((m) => inScope(record, m.scope));
  if (matching.length === 0) return undefined;
  await holds.legalHolds.set(version, true, signal);
  return Object.fromEntries(
    matching.map((m) => [
      m.matterId,
      { matterId: m.matterId, placedBy: m.placedBy, placedAt: at, reason: m.reason, via: 'ingest' as const },
    ]),
  );
}

/**
 * A copy already archived that a job saw again: the job may have brought it into an active matter's
 * scope (a new chat listing it, or provenance the record lacked: a creator, a project), after that
 * matter's sweep read the sources that select it now. Each such matter is recorded on the record
 * (`via: ingest`), then the version's legal hold is turned on, in the sweep's order (hold-work.ts
 * placeOne). The matters added and the record after (unchanged when it was already held for every
 * matter that selects it).
 */
export async function holdSeenCopy(
  record: ArchivedRecord,
  holds: IngestHolds,
  at: string,
  signal: AbortSignal,
): Promise<{ added: string[]; record: ArchivedRecord }> {
  const missing = (await holds.activeMatters()).filter(
    (m) => record.legalHolds?.[m.matterId] === undefined && inScope(record, m.scope),
  );
  const added: string[] = [];
  let held: ArchivedRecord | undefined;
  let after = record;
  for (const m of missing) {
    const entry: LegalHoldEntry = {
      matterId: m.matterId,
      placedBy: m.placedBy,
      placedAt: at,
      reason: m.reason,
      via: 'ingest',
    };
    const result = await holds.files.addHold(record.fileId, entry);
    if (!result) continue;
    held = result.record;
    after = result.record;
    if (result.added) added.push(m.matterId);
  }
  if (held) await holds.legalHolds.set(held, true, signal);
  return { added, record: after };
}
