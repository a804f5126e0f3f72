import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExportScope } from '../../shared/contracts/exports.js';
import type { FileRecord, PendingRecord } from '../../shared/contracts/file-records.js';
import type { HoldScope } from '../../shared/contracts/holds.js';
import { searchAttributesOf } from '../../shared/contracts/search-index.js';
import { listingSortTime } from '../../shared/contracts/table-keys.js';
import { type CandidateReads, candidateReads } from '../../shared/export/candidate-reads.js';
import { type ExportSelection, selects } from '../../shared/export/scope.js';
import { archivedRecord } from '../support/archived-record.js';

/**
 * Where an export reads its candidates (shared/export/candidate-reads.ts): the plan for each kind of
 * selection, and, for random archives and selections, that the files the plan's reads give, filtered
 * by `selects`, are exactly the files a Scan of every file item filtered by `selects` gives.
 */
const NOW = '2026-06-15T12:00:00.000Z';
const Q1 = { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' };

describe('the candidate reads of a selection', () => {
  it('reads named files and chats alone, in the order named, when they bound the selection', () => {
    expect(candidateReads({ scope: { chats: ['claude_chat_01A'], users: ['u'] } }, NOW)).toEqual({
      reads: [{ kind: 'chat', chatId: 'claude_chat_01A' }],
      order: 'read',
    });
    expect(candidateReads({ matter: { matterId: 'M', scope: { fileIds: ['f1'], chats: ['c1'] } } }, NOW)).toEqual({
      reads: [
        { kind: 'fileIds', ids: ['f1'] },
        { kind: 'chat', chatId: 'c1' },
      ],
      order: 'read',
    });
  });

  it("reads a scope's users through the creator and the creator-email index each, within the window", () => {
    const plan = candidateReads(
      { scope: { users: ['user_01Ann', 'Bob@Example.com'], projects: ['claude_proj_01X'], ...Q1 } },
      NOW,
    );
    const between = ['2026-01-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'];
    expect(plan).toEqual({
      reads: [
        { kind: 'index', index: 'creator', partition: 'user_01Ann', between },
        { kind: 'index', index: 'creatorEmail', partition: 'user_01ann', between },
        { kind: 'index', index: 'creator', partition: 'Bob@Example.com', between },
        { kind: 'index', index: 'creatorEmail', partition: 'bob@example.com', between },
      ],
      order: 'fileId',
    });
    // No window: each partition whole.
    expect(candidateReads({ scope: { users: ['user_01Ann'] } }, NOW).reads).toEqual([
      { kind: 'index', index: 'creator', partition: 'user_01Ann' },
      { kind: 'index', index: 'creatorEmail', partition: 'user_01ann' },
    ]);
  });

  it('reads projects through the project index, a window with both ends through the month index', () => {
    expect(
      candidateReads({ scope: { projects: ['claude_proj_01X'], from: '2026-02-01T00:00:00+01:00' } }, NOW),
    ).toEqual({
      reads: [
        {
          kind: 'index',
          index: 'project',
          partition: 'claude_proj_01X',
          between: ['2026-01-31T23:00:00.000Z', '9999-12-31T23:59:59.999Z'],
        },
      ],
      order: 'fileId',
    });
    const months = candidateReads({ scope: Q1 }, NOW).reads;
    expect(months.map((r) => (r.kind === 'index' ? `${r.index}:${r.partition}` : r.kind))).toEqual([
      'month:2026-01',
      'month:2026-02',
      'month:2026-03',
    ]);
  });

  it('scans for a window open at either end, and for a matter with a window alone', () => {
    const scan: CandidateReads = { reads: [{ kind: 'scan' }], order: 'fileId' };
    expect(candidateReads({ scope: { from: Q1.from } }, NOW)).toEqual(scan);
    expect(candidateReads({ scope: { to: Q1.to } }, NOW)).toEqual(scan);
    expect(candidateReads({ scope: { from: '0001-01-01T00:00:00Z', to: Q1.to } }, NOW)).toEqual(scan);
    expect(candidateReads({ matter: { matterId: 'M', scope: { from: '2026-01-01T00:00:00.000Z' } } }, NOW)).toEqual(
      scan,
    );
  });

  it("reads a matter's users, chats, projects and files whole (any of its lists), not within its window", () => {
    const scope: HoldScope = {
      users: ['ann@example.com', 'user_01Bob'],
      chats: ['claude_chat_01C'],
      projects: ['claude_proj_01P'],
      fileIds: ['claude_file_01F'],
      from: '2026-01-01T00:00:00.000Z',
    };
    expect(candidateReads({ matter: { matterId: 'M', scope } }, NOW)).toEqual({
      reads: [
        { kind: 'index', index: 'creator', partition: 'ann@example.com' },
        { kind: 'index', index: 'creatorEmail', partition: 'ann@example.com' },
        { kind: 'index', index: 'creator', partition: 'user_01Bob' },
        { kind: 'index', index: 'creatorEmail', partition: 'user_01bob' },
        { kind: 'chat', chatId: 'claude_chat_01C' },
        { kind: 'index', index: 'project', partition: 'claude_proj_01P' },
        { kind: 'fileIds', ids: ['claude_file_01F'] },
      ],
      order: 'fileId',
    });
  });

  it("reads a matter narrowed by a scope through the plan of fewer reads, the scope's when the matter's scans", () => {
    const matter = { matterId: 'M', scope: { users: ['user_01A', 'user_01B'] } };
    const oneProject = candidateReads({ matter, scope: { projects: ['claude_proj_01X'] } }, NOW);
    expect(oneProject.reads).toEqual([{ kind: 'index', index: 'project', partition: 'claude_proj_01X' }]);
    const windowOnly = { matterId: 'W', scope: { from: '2026-01-01T00:00:00.000Z' } };
    expect(candidateReads({ matter: windowOnly, scope: { users: ['user_01A'] } }, NOW).reads).toHaveLength(2);
    expect(candidateReads({ matter, scope: { from: Q1.from } }, NOW).reads).toHaveLength(4);
    // Named files in the scope bound both, as before.
    expect(candidateReads({ matter, scope: { fileIds: ['f1'] } }, NOW)).toEqual({
      reads: [{ kind: 'fileIds', ids: ['f1'] }],
      order: 'read',
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// The property: an in-memory index table, written with the key functions the DynamoDB writers use.

interface Item {
  record: FileRecord;
  /** The search attributes as the file index writes them (searchAttributesOf; a claim for a pending file). */
  s: Record<string, string | number | undefined>;
}

function itemOf(record: FileRecord, recordedAt: string): Item {
  if (record.status === 'pending') {
    return { record, s: { searchAt: record.firstSeenAt, sMonth: record.firstSeenAt.slice(0, 7) } };
  }
  return { record, s: searchAttributesOf(record, listingSortTime(record.createdAt, recordedAt)).set };
}

const INDEX_KEYS = { creator: 'sCreator', creatorEmail: 'sEmail', project: 'sProject', month: 'sMonth' } as const;

/** What the adapter's reads give from the model table, in plan order (duplicates kept). */
function readAll(plan: CandidateReads, items: readonly Item[]): FileRecord[] {
  return plan.reads.flatMap((read) => readOne(read, items));
}

function readOne(read: CandidateReads['reads'][number], items: readonly Item[]): FileRecord[] {
  if (read.kind === 'scan') return items.map((i) => i.record);
  if (read.kind === 'fileIds') {
    return read.ids.flatMap((id) => items.filter((i) => i.record.fileId === id).map((i) => i.record));
  }
  if (read.kind === 'chat') return items.filter((i) => i.record.chatIds.includes(read.chatId)).map((i) => i.record);
  const key = INDEX_KEYS[read.index];
  return items
    .filter((i) => i.s[key] === read.partition)
    .filter((i) => {
      const at = String(i.s['searchAt']);
      return !read.between || (at >= read.between[0] && at <= read.between[1]);
    })
    .map((i) => i.record);
}

const USERS = [
  { id: 'user_01Ann', emailAddress: 'Ann@Example.com' },
  { id: 'user_01bob', emailAddress: 'bob@example.com' },
  // Upstream's values are not checked for shape: an id with an `@`, an address without one.
  { id: 'carol@corp', emailAddress: 'CAROL' },
  { id: 'user_01Dan', emailAddress: null },
];
const PROJECTS = ['claude_proj_01X', 'claude_proj_01Y'];
const CHATS = ['claude_chat_01A', 'claude_chat_01B', 'claude_chat_01C'];
const INSTANTS = [
  '2025-12-31T23:59:59.999Z',
  '2026-01-01T00:00:00.000Z',
  '2026-02-14T10:00:00.000Z',
  '2026-03-31T23:59:59.999Z',
  '2026-04-01T00:00:00.000Z',
  '2026-07-20T08:30:00.000Z',
  '2099-01-01T00:00:00.000Z',
];
// Upstream's creation time as given: canonical, another offset or precision, not a timestamp, absent.
const CREATED = [...INSTANTS, '2026-01-01T01:00:00+01:00', '2026-03-31T23:59:59.9999Z', 'yesterday', null];

const instant = fc.constantFrom(...INSTANTS);
const record = (n: number) =>
  fc
    .record({
      pending: fc.boolean(),
      creator: fc.option(fc.constantFrom(...USERS), { nil: undefined }),
      projectId: fc.option(fc.constantFrom(...PROJECTS), { nil: null }),
      chatIds: fc.subarray(CHATS),
      createdAt: fc.constantFrom(...CREATED),
      archivedAt: instant,
      recordedAt: instant,
    })
    .map((r): Item => {
      const fileId = `claude_file_${String(n).padStart(3, '0')}`;
      if (r.pending) {
        const pending: PendingRecord = {
          status: 'pending',
          fileId,
          source: 'uploaded',
          chatIds: r.chatIds,
          filename: null,
          mimeType: null,
          sizeBytes: null,
          createdAt: null,
          upstreamRequestId: null,
          attempts: 1,
          lastError: null,
          lastUpstreamRequestId: null,
          firstSeenAt: r.recordedAt,
        };
        return itemOf(pending, r.recordedAt);
      }
      const archived = archivedRecord({
        fileId,
        chatIds: r.chatIds,
        createdAt: r.createdAt,
        archivedAt: r.archivedAt,
        projectId: r.projectId,
        ...(r.creator === undefined ? {} : { creator: r.creator }),
      });
      return itemOf(archived, r.recordedAt);
    });
const archive = fc
  .integer({ min: 0, max: 25 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => record(i))));

// Any way a user is named: an id or an address, in any case.
const userRef = fc
  .tuple(
    fc.constantFrom(...USERS.flatMap((u) => [u.id, u.emailAddress ?? u.id])),
    fc.constantFrom('as is', 'upper', 'lower'),
  )
  .map(([u, c]) => (c === 'upper' ? u.toUpperCase() : c === 'lower' ? u.toLowerCase() : u));
// Each criterion absent half the time, so a window alone or a single list is common.
const list = <T>(a: fc.Arbitrary<T>) =>
  fc.option(fc.array(a, { minLength: 1, maxLength: 3 }), { nil: undefined, freq: 2 });
const fileIdRef = fc.integer({ min: 0, max: 27 }).map((n) => `claude_file_${String(n).padStart(3, '0')}`);
const bound = fc.option(fc.constantFrom(...INSTANTS, '2026-01-01T01:00:00+01:00'), { nil: undefined, freq: 2 });
const lists = fc.record({
  users: list(userRef),
  projects: list(fc.constantFrom(...PROJECTS)),
  chats: list(fc.constantFrom(...CHATS)),
  fileIds: list(fileIdRef),
  from: bound,
  to: bound,
});
const clean = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const exportScope = lists.map((l): ExportScope => clean(l));
// A hold scope's window is canonical (its schema canonicalises it).
const holdScope = lists.map((l): HoldScope => {
  const c = (t: string | undefined) => (t === undefined ? undefined : new Date(Date.parse(t)).toISOString());
  return clean({ ...l, from: c(l.from), to: c(l.to) });
});
const selection: fc.Arbitrary<ExportSelection> = fc.oneof(
  exportScope.map((scope) => ({ scope })),
  holdScope.map((scope) => ({ matter: { matterId: 'M', scope } })),
  fc.tuple(holdScope, exportScope).map(([held, scope]) => ({ matter: { matterId: 'M', scope: held }, scope })),
);

describe('the candidate reads, against a Scan', () => {
  it('give, filtered by selects, exactly the files a Scan of every file item filtered by selects gives', () => {
    fc.assert(
      fc.property(archive, selection, (items, sel) => {
        const plan = candidateReads(sel, NOW);
        const taken = (records: FileRecord[]) => [
          ...new Set(records.filter((r) => selects(r, sel)).map((r) => r.fileId)),
        ];
        const byPlan = taken(readAll(plan, items));
        const byScan = taken(items.map((i) => i.record));
        expect([...byPlan].sort()).toEqual([...byScan].sort());
      }),
      { numRuns: 3000 },
    );
  });
});
