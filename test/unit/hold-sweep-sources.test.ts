import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import { archivedRecord } from '../support/archived-record.js';
import type { HoldScope, HoldWork } from '../../shared/contracts/holds.js';
import { inScope } from '../../shared/contracts/holds.js';
import { searchAttributesOf } from '../../shared/contracts/search-index.js';
import { processHoldWork } from '../../shared/holds/hold-work.js';
import { placeMatter, releaseMatter } from '../../shared/holds/matters.js';
import {
  decodeSweepPosition,
  encodeSweepPosition,
  MAX_SWEEP_MONTHS,
  sweepSources,
} from '../../shared/holds/sweep-sources.js';
import { MalformedJobError } from '../../shared/platform/errors.js';
import { memoryHoldWork } from './fakes/memory-holds.js';

/**
 * A matter's sweep reads its scope through the indexes (sweep-sources.ts): which sources a scope
 * gives, that the sweep reaches exactly the files in scope through them without a Scan, that a file
 * reached through two selectors is held once, and that a forged cursor is refused.
 */
const signal = new AbortController().signal;
const ALICE = { id: 'user_01Alice', emailAddress: 'Alice@Example.com' };
const BOB = { id: 'user_01Bob', emailAddress: 'bob@example.com' };

function file(n: number, overrides: Partial<ArchivedRecord> = {}): ArchivedRecord {
  return archivedRecord({
    fileId: `claude_gen_file_${String(n).padStart(4, '0')}`,
    chatIds: [`claude_chat_01Other${n}`],
    filename: `f${n}.txt`,
    key: `archive/generated/f${n}`,
    versionId: `v${n}`,
    creator: BOB,
    ...overrides,
  });
}

function setup(files: ArchivedRecord[], pageSize = 2) {
  const { deps, held, legalHolds, work } = memoryHoldWork(files, { pageSize });
  const scans: unknown[] = [];
  const scanArchived = held.scanArchived.bind(held);
  held.scanArchived = async (...args) => {
    scans.push(args);
    return scanArchived(...args);
  };
  let delivered = 0;
  const drain = async () => {
    while (deps.work.sent.length > delivered) {
      const { body } = deps.work.sent[delivered++] ?? { body: '' };
      await processHoldWork(JSON.parse(body) as HoldWork, work, signal);
    }
  };
  const place = async (matterId: string, scope: HoldScope) => {
    await placeMatter({ matterId, reason: 'r', scope }, 'arn:admin', deps, signal);
    await drain();
    return deps.matters.get(matterId);
  };
  return { deps, held, legalHolds, scans, work, drain, place };
}

describe('the sources of a sweep', () => {
  it('gives one index source per selector, the window as their sort range, and file ids as one source', () => {
    const scope = {
      users: ['user_01Alice', 'Alice@Example.com', 'user_01Alice'],
      chats: ['claude_chat_01A'],
      projects: ['claude_proj_01P'],
      fileIds: ['claude_gen_file_01X', 'claude_gen_file_01Y'],
      from: '2026-01-01T00:00:00.000Z',
    };
    expect(sweepSources(scope, '2026-03-01T00:00:00.000Z')).toEqual([
      { kind: 'query', index: 'creator', partition: 'user_01Alice', between: [scope.from, '9999-12-31T23:59:59.999Z'] },
      {
        kind: 'query',
        index: 'creatorEmail',
        partition: 'alice@example.com',
        between: [scope.from, '9999-12-31T23:59:59.999Z'],
      },
      { kind: 'query', index: 'chat', partition: 'claude_chat_01A', between: [scope.from, '9999-12-31T23:59:59.999Z'] },
      {
        kind: 'query',
        index: 'project',
        partition: 'claude_proj_01P',
        between: [scope.from, '9999-12-31T23:59:59.999Z'],
      },
      { kind: 'fileIds', ids: scope.fileIds },
    ]);
  });

  it('walks a window alone month by month: `to` exclusive, an open end up to the month after the sweep began', () => {
    const months = (scope: HoldScope, at = '2026-03-15T00:00:00.000Z') =>
      sweepSources(scope, at).map((s) => (s.kind === 'query' ? `${s.index}:${s.partition}` : s.kind));
    expect(months({ from: '2025-11-20T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' })).toEqual([
      'month:2025-11',
      'month:2025-12',
      'month:2026-01',
    ]);
    expect(months({ from: '2026-02-03T00:00:00.000Z' })).toEqual(['month:2026-02', 'month:2026-03', 'month:2026-04']);
    expect(months({ from: '2026-11-03T00:00:00.000Z' }, '2026-12-06T13:00:00.000Z')).toEqual([
      'month:2026-11',
      'month:2026-12',
      'month:2027-01',
    ]);
    // No first month is safe for a window open at its start, nor worth walking for a century: a Scan.
    expect(months({ to: '2026-02-01T00:00:00.000Z' })).toEqual(['scan']);
    expect(months({ from: '1900-01-01T00:00:00.000Z' })).toEqual(['scan']);
    expect(MAX_SWEEP_MONTHS).toBe(1200);
  });

  it('refuses a cursor it did not write for these sources, as a malformed message (dead-lettered)', () => {
    const sources = sweepSources({ users: ['user_01Alice'], fileIds: ['claude_gen_file_01X'] }, '2026-03-01T00:00:00Z');
    const creatorKey = { pk: 'FILE#f', sk: 'FILE', sCreator: 'user_01Alice', searchAt: '2026-01-01T00:00:00.000Z' };
    expect(decodeSweepPosition(encodeSweepPosition({ s: 0, k: creatorKey }), sources)).toEqual({ s: 0, k: creatorKey });
    const forged = [
      encodeSweepPosition({ s: 0, k: { ...creatorKey, sCreator: 'user_01Mallory' } }),
      encodeSweepPosition({ s: 0, k: { ...creatorKey, sProject: 'claude_proj_01P' } }),
      encodeSweepPosition({ s: 2 }),
      encodeSweepPosition({ s: 1, o: 1 }),
      encodeSweepPosition({ s: 1, c: 'x' }),
      'not a cursor!',
      Buffer.from('{"s":0,"extra":1}').toString('base64url'),
    ];
    for (const cursor of forged) expect(() => decodeSweepPosition(cursor, sources)).toThrow(MalformedJobError);
  });
});

describe('a hold-work cursor from the queue (fuzzed)', () => {
  const sources = sweepSources(
    { users: ['user_01Alice'], chats: ['claude_chat_01A'], fileIds: ['claude_gen_file_01X'] },
    '2026-03-01T00:00:00.000Z',
  );
  it('is a position of these sources or a MalformedJobError, never another failure', () => {
    const position = fc.record(
      {
        s: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double(), fc.string()),
        k: fc.dictionary(fc.string({ maxLength: 20 }), fc.oneof(fc.string({ maxLength: 40 }), fc.integer())),
        o: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.constant(null)),
        c: fc.string({ maxLength: 30 }),
      },
      { requiredKeys: [] },
    );
    const cursor = fc.oneof(
      fc.string({ maxLength: 200 }),
      position.map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')),
    );
    fc.assert(
      fc.property(cursor, (text) => {
        try {
          const p = decodeSweepPosition(text, sources);
          expect(sources[p.s]).toBeDefined();
        } catch (err) {
          expect(err).toBeInstanceOf(MalformedJobError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a sweep driven by the indexes', () => {
  const files = [
    file(1, { creator: ALICE, createdAt: '2026-01-05T00:00:00.000Z' }),
    file(2, { creator: ALICE, createdAt: '2026-02-05T00:00:00.000Z' }),
    file(3, { creator: ALICE, createdAt: '2025-12-31T23:59:59.999Z' }),
    file(4, { projectId: 'claude_proj_01P' }),
    file(5, { chatIds: ['claude_chat_01Case'] }),
    file(6),
    file(7, { creator: null, createdAt: null, archivedAt: '2026-01-20T00:00:00.000Z' }),
  ];

  it('holds exactly the files in scope, through index queries and file reads, never a Scan', async () => {
    const { held, legalHolds, scans, place } = setup(files);
    const matter = await place('M', {
      users: ['alice@example.com'],
      projects: ['claude_proj_01P'],
      chats: ['claude_chat_01Case'],
      fileIds: [files[5]?.fileId as string, 'claude_gen_file_01Missing'],
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-03-01T00:00:00.000Z',
    });
    const heldIds = [...held.records.values()].filter((r) => r.legalHolds?.['M']).map((r) => r.fileId);
    expect(heldIds).toEqual([1, 2, 4, 5, 6].map((n) => file(n).fileId));
    expect(matter?.progress).toMatchObject({ done: true, matched: 5, changed: 5 });
    expect([...legalHolds.status.values()].filter(Boolean)).toHaveLength(5);
    expect(scans).toEqual([]);
    expect(new Set(held.queries.map((q) => q.index))).toEqual(new Set(['creatorEmail', 'project', 'chat']));
  });

  it('holds a file reached through two selectors once: one entry, counted once, its first time kept', async () => {
    const { held, deps, work } = setup(files, 1);
    let clock = Date.parse('2026-03-01T10:00:00Z');
    work.now = () => (clock += 1000);
    const one = files[0]?.fileId as string;
    await placeMatter(
      { matterId: 'M', reason: 'r', scope: { users: ['user_01Alice'], fileIds: [one] } },
      'a',
      deps,
      signal,
    );
    let first: unknown;
    for (let i = 0; i < deps.work.sent.length; i++) {
      await processHoldWork(JSON.parse(deps.work.sent[i]?.body ?? '') as HoldWork, work, signal);
      first ??= structuredClone(held.records.get(one)?.legalHolds?.['M']);
    }
    expect(first).toMatchObject({ matterId: 'M', via: 'matter' });
    // Reached by the creator index first, then by its id on a later page (a later time): kept as first held.
    expect(held.records.get(one)?.legalHolds?.['M']).toEqual(first);
    expect((await deps.matters.get('M'))?.progress).toMatchObject({ done: true, matched: 4, changed: 3 });
  });

  it('moves through many selectors that name no file several to a message, at most 50 reads each', async () => {
    const { held, place, deps } = setup(files, 500);
    const users = Array.from({ length: 120 }, (_, i) => `user_01Nobody${i}`);
    const matter = await place('MANY', { users: [...users, ALICE.id] });
    expect(matter?.progress).toMatchObject({ done: true, page: 3, matched: 3, changed: 3 });
    expect(deps.work.sent).toHaveLength(3);
    expect(held.queries).toHaveLength(121);
  });

  it('walks the month index for a window alone, and a Scan only for a window open at its start', async () => {
    const { held, scans, place } = setup(files);
    await place('W', { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' });
    const inJanuary = [...held.records.values()].filter((r) => r.legalHolds?.['W']).map((r) => r.fileId);
    // File 7 has no creation time: its archive time (January) places it.
    expect(inJanuary).toEqual([1, 4, 5, 6, 7].map((n) => file(n).fileId));
    // Two files a page: the one partition of the window, read in three pages.
    expect(held.queries.map((q) => `${q.index}:${q.partition}`)).toEqual(Array(3).fill('month:2026-01'));
    expect(scans).toEqual([]);

    await place('OPEN', { to: '2026-01-01T00:00:00.000Z' });
    expect([...held.records.values()].filter((r) => r.legalHolds?.['OPEN']).map((r) => r.fileId)).toEqual([
      file(3).fileId,
    ]);
    expect(scans.length).toBeGreaterThan(0);
  });

  it('releases through the same selectors: every record the matter holds, and no other', async () => {
    const { held, legalHolds, scans, place, deps, drain } = setup(files);
    await place('A', { users: ['user_01Alice'] });
    await place('B', { fileIds: [files[0]?.fileId as string] });
    await releaseMatter('A', 'arn:admin', deps, signal);
    await drain();
    expect((await deps.matters.get('A'))?.progress).toMatchObject({ action: 'release', done: true, matched: 3 });
    expect([...held.records.values()].filter((r) => r.legalHolds?.['A'])).toEqual([]);
    // File 1 is still held by B; 2 and 3 by nothing.
    expect(legalHolds.status.get('archive/generated/f1@v1')).toBe(true);
    expect(legalHolds.status.get('archive/generated/f2@v2')).toBe(false);
    expect(legalHolds.status.get('archive/generated/f3@v3')).toBe(false);
    expect(scans).toEqual([]);
  });
});

describe('the time a sweep reads an index by (fuzzed)', () => {
  // A windowed sweep reads each index partition with `searchAt` between the window's ends, then keeps
  // what the hold rules take. It reaches every archived file in scope only if `searchAt` is the time the
  // rules compare: upstream's creation time, else the archive time. The listing time the index was given
  // (`fallbackAt`) may be months from the archive time for a file first recorded unavailable.
  const instant = fc
    .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString());
  const createdAt = fc.oneof(instant, fc.constant(null), fc.constant('not a time'), fc.constant(''));
  it('is the time the hold rules compare a window with, for every archived file', () => {
    fc.assert(
      fc.property(createdAt, instant, instant, instant, instant, (created, archivedAt, listedAt, a, b) => {
        const [from, to] = a <= b ? [a, b] : [b, a];
        const record = archivedRecord({ createdAt: created, archivedAt, creator: ALICE });
        const searchAt = searchAttributesOf(record, listedAt).set.searchAt as string;
        const scope: HoldScope = { users: [ALICE.id], from, to };
        const readByTheSweep = searchAt >= from && searchAt <= to;
        if (inScope(record, scope)) expect(readByTheSweep).toBe(true);
        expect(searchAt >= from && searchAt < to).toBe(inScope(record, scope));
      }),
      { numRuns: 2000 },
    );
  });
});
