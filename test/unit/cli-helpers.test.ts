import { describe, expect, it } from 'vitest';
import { estimate, fractionOf } from '../../cli/backfill-progress.js';
import { parseCount, parseDateOption } from '../../cli/dates.js';
import { UsageError } from '../../cli/exit-codes.js';
import { compareWithRecord, safeFileName } from '../../cli/verified-download.js';
import type { BackfillCheckpoint } from '../../shared/contracts/backfill-checkpoint.js';

const now = Date.parse('2025-06-10T00:00:00Z');

describe('date options', () => {
  it('accepts a date, a date-time with a zone, and an age', () => {
    expect(new Date(parseDateOption('2025-06-01', '--since', now)).toISOString()).toBe('2025-06-01T00:00:00.000Z');
    expect(new Date(parseDateOption('2025-06-01T12:30:00+02:00', '--since', now)).toISOString()).toBe(
      '2025-06-01T10:30:00.000Z',
    );
    expect(parseDateOption('36h', '--since', now)).toBe(now - 36 * 3_600_000);
    expect(parseDateOption('7d', '--since', now)).toBe(now - 7 * 86_400_000);
  });

  it.each(['yesterday', '2025-02-30', '2025-06-01T12:00:00', '12', '-1d', ''])(
    'refuses %j as a usage error',
    (value) => {
      expect(() => parseDateOption(value, '--since', now)).toThrow(UsageError);
    },
  );

  it('counts are whole numbers in range', () => {
    expect(parseCount('15', '--x', 100)).toBe(15);
    for (const bad of ['0', '101', '1.5', 'ten', '1e2']) expect(() => parseCount(bad, '--x', 100)).toThrow(UsageError);
  });
});

function checkpointFactory(overrides: Partial<BackfillCheckpoint> = {}): BackfillCheckpoint {
  return {
    key: 'k',
    query: { since: '2025-01-01T00:00:00.000Z', until: '2025-01-11T00:00:00.000Z', userIds: [] },
    cursor: null,
    doneInPage: [],
    firstChatCreatedAt: null,
    lastChatCreatedAt: null,
    chatsScanned: 0,
    filesEnqueued: 0,
    startedAt: '2025-06-01T00:00:00.000Z',
    updatedAt: '2025-06-01T00:00:00.000Z',
    completedAt: null,
    ...overrides,
  };
}

describe('backfill progress estimate', () => {
  it("measures progress as the share of the period walked, and the ETA at this session's pace", () => {
    const cp = checkpointFactory({ lastChatCreatedAt: '2025-01-03T12:00:00.000Z', chatsScanned: 50 });
    expect(fractionOf(cp)).toBeCloseTo(0.25);
    // A session that began at 0% 100 s ago: 25% in 100 s, 75% left → 300 s.
    const e = estimate(cp, { atMs: now - 100_000, chats: 0, fraction: 0 }, now);
    expect(e.rate).toBeCloseTo(0.5);
    expect(e.etaSeconds).toBeCloseTo(300);
  });

  it('starts an open-ended backfill at its first chat and knows nothing before one is read', () => {
    const open = checkpointFactory({ query: { since: null, until: '2025-01-11T00:00:00.000Z', userIds: [] } });
    expect(fractionOf(open)).toBeNull();
    expect(estimate(open, { atMs: now - 1000, chats: 0, fraction: null }, now).etaSeconds).toBeNull();
    const read = {
      ...open,
      firstChatCreatedAt: '2025-01-01T00:00:00.000Z',
      lastChatCreatedAt: '2025-01-06T00:00:00.000Z',
    };
    expect(fractionOf(read)).toBeCloseTo(0.5);
  });

  it('a resumed session measures its own pace, and a completed backfill is at 100%', () => {
    const cp = checkpointFactory({ lastChatCreatedAt: '2025-01-09T00:00:00.000Z', chatsScanned: 80 });
    const e = estimate(cp, { atMs: now - 60_000, chats: 60, fraction: 0.6 }, now);
    // 60% → 80% in 60 s; 20% left → 60 s.
    expect(e.rate).toBeCloseTo(20 / 60);
    expect(e.etaSeconds).toBeCloseTo(60);
    expect(fractionOf({ ...cp, completedAt: '2025-06-01T00:00:00.000Z' })).toBe(1);
  });
});

describe('download helpers', () => {
  it('reduces an untrusted filename to one safe path segment', () => {
    expect(safeFileName('q3 report.csv', 'id')).toBe('q3 report.csv');
    expect(safeFileName('../../etc/passwd', 'id')).toBe('_.._etc_passwd');
    expect(safeFileName('a\\b\u0000c\u202e.txt', 'id')).toBe('a_bc.txt');
    for (const empty of [null, '', '..', ' . ', '\u0007'])
      expect(safeFileName(empty, 'claude_file_01X')).toBe('claude_file_01X');
  });

  it('names every check that failed', () => {
    const measured = { sha256: 'a'.repeat(64), md5: 'b'.repeat(32), bytes: 10 };
    expect(compareWithRecord({ sha256: 'A'.repeat(64), md5: 'b'.repeat(32), sizeBytes: 10 }, measured)).toEqual([]);
    expect(compareWithRecord({ sha256: 'c'.repeat(64), md5: 'd'.repeat(32), sizeBytes: 11 }, measured)).toEqual([
      `sha256 expected ${'c'.repeat(64)}, got ${'a'.repeat(64)}`,
      `md5 expected ${'d'.repeat(32)}, got ${'b'.repeat(32)}`,
      'size expected 11 bytes, got 10',
    ]);
  });
});
