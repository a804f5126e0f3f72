import type { ArchivedRecord } from '../../../shared/contracts/file-records.js';
import type { HoldAction, HoldProgress, LegalHoldEntry, Matter } from '../../../shared/contracts/holds.js';
import type { FixityDeps } from '../../../shared/fixity/check-copy.js';
import type { HoldWorkDeps } from '../../../shared/holds/hold-work.js';
import type { MatterDeps } from '../../../shared/holds/matters.js';
import type {
  HeldFiles,
  HeldVersion,
  HoldScanPage,
  HoldWorkSender,
  LegalHoldSwitch,
  MatterStore,
} from '../../../shared/holds/ports.js';
import { InvalidCursorError } from '../../../shared/platform/errors.js';
import type { FileSearchIndex, IndexPage, IndexQuery } from '../../../shared/lookup/search-files.js';
import { SEARCH_INDEXES } from '../../../shared/contracts/search-index.js';
import { chatPartition } from '../../../shared/contracts/table-keys.js';
import { canonicalTimestamp } from '../../../shared/contracts/timestamps.js';

/** The matters in memory, with the DynamoDB store's rules (conditional create, release, checkpoint). */
export class MemoryMatterStore implements MatterStore {
  readonly matters = new Map<string, Matter>();

  async create(matter: Matter): Promise<boolean> {
    if (this.matters.has(matter.matterId)) return false;
    this.matters.set(matter.matterId, structuredClone(matter));
    return true;
  }
  async get(matterId: string): Promise<Matter | undefined> {
    const m = this.matters.get(matterId);
    return m ? structuredClone(m) : undefined;
  }
  async list(): Promise<Matter[]> {
    return [...this.matters.values()].sort((a, b) => (a.matterId < b.matterId ? -1 : 1)).map((m) => structuredClone(m));
  }
  async release(matterId: string, by: string, at: string, progress: HoldProgress): Promise<Matter | undefined> {
    const m = this.matters.get(matterId);
    if (m?.status !== 'active') return undefined;
    Object.assign(m, { status: 'released', releasedBy: by, releasedAt: at, progress: structuredClone(progress) });
    return structuredClone(m);
  }
  async checkpoint(matterId: string, at: { action: HoldAction; page: number }, next: HoldProgress): Promise<boolean> {
    const m = this.matters.get(matterId);
    if (!m || m.progress.action !== at.action || m.progress.page !== at.page) return false;
    m.progress = structuredClone(next);
    return true;
  }
  async markSent(matterId: string, at: { action: HoldAction; page: number }): Promise<void> {
    const m = this.matters.get(matterId);
    if (m && m.progress.action === at.action && m.progress.page === at.page) m.progress.sent = true;
  }
}

/** Records what was sent, with its delay; `failNext` makes the next send throw (a queue outage). */
export class RecordingSender implements HoldWorkSender {
  readonly sent: { body: string; delaySeconds: number | undefined }[] = [];
  failNext: Error | undefined;
  async send(bodies: readonly string[], _signal: AbortSignal, opts: { delaySeconds?: number } = {}): Promise<void> {
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    for (const body of bodies) this.sent.push({ body, delaySeconds: opts.delaySeconds });
  }
}

export function memoryMatterDeps(overrides: Partial<MatterDeps> = {}): MatterDeps & {
  matters: MemoryMatterStore;
  work: RecordingSender;
} {
  return {
    matters: new MemoryMatterStore(),
    work: new RecordingSender(),
    releaseDelaySeconds: 0,
    now: () => Date.parse('2026-03-01T10:00:00Z'),
    ...overrides,
  } as MatterDeps & { matters: MemoryMatterStore; work: RecordingSender };
}

/**
 * Archived records in memory, with the DynamoDB side's hold rules: a Scan pages `limit` items at a time in
 * insertion order, and `query` answers the search indexes.
 */
export class MemoryHeldFiles implements HeldFiles, FileSearchIndex {
  readonly records = new Map<string, ArchivedRecord>();
  /** Items that are not archived file records (listings, matters…): they count as read, like a Scan's. */
  otherItems = 0;
  /** Every index query made, in order. */
  readonly queries: IndexQuery[] = [];

  put(record: ArchivedRecord): void {
    this.records.set(record.fileId, structuredClone(record));
  }
  async scanArchived(cursor: string | undefined, limit: number, holdingMatter?: string): Promise<HoldScanPage> {
    const all = [...this.records.values()];
    const total = all.length + this.otherItems;
    const start = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isInteger(start) || start < 0 || start > total) throw new InvalidCursorError();
    const end = Math.min(total, start + limit);
    const records = all
      .slice(start, Math.min(end, all.length))
      .filter((r) => holdingMatter === undefined || r.legalHolds?.[holdingMatter] !== undefined)
      .map((r) => structuredClone(r));
    return { scanned: end - start, records, nextCursor: end < total ? String(end) : undefined };
  }
  async addHold(
    fileId: string,
    entry: LegalHoldEntry,
  ): Promise<{ record: ArchivedRecord; added: boolean } | undefined> {
    const r = this.records.get(fileId);
    if (!r) return undefined;
    const added = r.legalHolds?.[entry.matterId] === undefined;
    if (added) r.legalHolds = { ...r.legalHolds, [entry.matterId]: entry };
    return { record: structuredClone(r), added };
  }
  /**
   * The search indexes over these records, as DynamoDbFileSearch reads them: one partition of an index
   * (or a chat's listings) in search-time order, `limit` at a time, the start key a key of the index.
   */
  async query(q: IndexQuery): Promise<IndexPage> {
    this.queries.push(q);
    const at = (r: ArchivedRecord) => canonicalTimestamp(r.createdAt) ?? (r.archivedAt as string);
    const partitionOf = (r: ArchivedRecord): string[] => {
      switch (q.index) {
        case 'chat':
          return r.chatIds;
        case 'creator':
          return r.creator ? [r.creator.id] : [];
        case 'creatorEmail':
          return r.creator?.emailAddress ? [r.creator.emailAddress.toLowerCase()] : [];
        case 'project':
          return r.projectId ? [r.projectId] : [];
        case 'month':
          return [at(r).slice(0, 7)];
        default:
          throw new Error(`the memory index has no ${q.index} index`);
      }
    };
    if (!('between' in q.sort)) throw new Error('the memory index answers time ranges only');
    const [from, to] = q.sort.between;
    const sortKey = (r: ArchivedRecord) => `${at(r)}#${r.fileId}`;
    const hits = [...this.records.values()]
      .filter((r) => partitionOf(r).includes(q.partition) && at(r) >= from && at(r) <= to)
      .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
    // The start key names the last file read: its file item's pk (an index) or its listing's sk (a chat).
    const keyOf = (r: ArchivedRecord): Record<string, string> =>
      q.index === 'chat'
        ? { pk: chatPartition(q.partition), sk: `F#${sortKey(r)}` }
        : {
            pk: `FILE#${r.fileId}`,
            sk: 'FILE',
            [SEARCH_INDEXES[q.index].partitionKey]: q.partition,
            [SEARCH_INDEXES[q.index].sortKey]: at(r),
          };
    const startAfter = q.startKey;
    const start =
      startAfter === undefined ? 0 : hits.findIndex((r) => JSON.stringify(keyOf(r)) === JSON.stringify(startAfter)) + 1;
    if (startAfter !== undefined && start === 0) throw new Error('a start key of no file in this partition');
    const page = hits.slice(start, start + q.limit);
    const last = page[page.length - 1];
    const more = start + q.limit < hits.length;
    return {
      records: page.map((r) => structuredClone(r)),
      lastKey: more && last ? keyOf(last) : undefined,
      readUnits: 0,
    };
  }
  async removeHold(fileId: string, matterId: string): Promise<ArchivedRecord | undefined> {
    const r = this.records.get(fileId);
    if (!r?.legalHolds?.[matterId]) return undefined;
    delete r.legalHolds[matterId];
    return structuredClone(r);
  }
  async getArchived(fileId: string): Promise<ArchivedRecord | undefined> {
    const r = this.records.get(fileId);
    return r ? structuredClone(r) : undefined;
  }
}

/** S3 legal holds in memory: the status of each version, and every call in order. */
export class MemoryLegalHolds implements LegalHoldSwitch {
  readonly status = new Map<string, boolean>();
  readonly calls: { key: string; on: boolean }[] = [];
  async set(version: HeldVersion, on: boolean): Promise<void> {
    const key = `${version.key}@${version.versionId}`;
    this.calls.push({ key, on });
    this.status.set(key, on);
  }
}

/** Fixity deps for handlers whose tests never verify a copy: any use is a bug, and says so. */
export function unusedFixity(): FixityDeps {
  const unused = () => Promise.reject(new Error('this test verifies no copy'));
  return { copies: { head: unused, digest: unused }, records: { get: unused, record: unused }, now: Date.now };
}

/**
 * A hold worker over memory: the matter deps, the archived files (`files`, plus `otherItems` that a
 * Scan pages through without a record), the legal-hold switch and the worker's deps, quiet.
 */
export function memoryHoldWork(
  files: readonly ArchivedRecord[],
  opts: { pageSize?: number; otherItems?: number } = {},
): {
  deps: ReturnType<typeof memoryMatterDeps>;
  held: MemoryHeldFiles;
  legalHolds: MemoryLegalHolds;
  work: HoldWorkDeps;
} {
  const deps = memoryMatterDeps();
  const held = new MemoryHeldFiles();
  for (const f of files) held.put(f);
  held.otherItems = opts.otherItems ?? 0;
  const legalHolds = new MemoryLegalHolds();
  const work: HoldWorkDeps = {
    matters: deps.matters,
    files: held,
    search: held,
    legalHolds,
    work: deps.work,
    pageSize: opts.pageSize ?? 2,
    now: deps.now,
    log: { debug() {}, info() {}, warn() {}, error() {} },
  };
  return { deps, held, legalHolds, work };
}
