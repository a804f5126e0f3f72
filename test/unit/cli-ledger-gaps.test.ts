import { describe, expect, it } from 'vitest';
import { findGaps } from '../../cli/ledger-gaps.js';
import type { ChainedRun } from '../../cli/ledger-gaps.js';

// The rules that turn a poller's ledger into "covered without a gap" or a list of gaps.
const t0 = Date.parse('2025-06-01T12:00:00Z');
const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();
const rules = { maxIntervalSeconds: 15 * 60, nowMs: t0 + 60 * 60_000 };

function runFactory(i: number, overrides: Partial<ChainedRun> = {}): ChainedRun {
  return {
    runId: `run-${i}`,
    startedAt: at(i * 10),
    endedAt: at(i * 10 + 1),
    ending: 'completed',
    cursorStart: null,
    cursorEnd: null,
    windowStart: null,
    windowEnd: null,
    ...overrides,
  };
}

describe('findGaps', () => {
  it('finds none in a chain where each run starts at the cursor the previous one ended at', () => {
    const runs = [
      runFactory(1, { cursorEnd: 'a' }),
      runFactory(2, { cursorStart: 'a', cursorEnd: 'b', ending: 'deadline' }),
      runFactory(3, { cursorStart: 'b', cursorEnd: 'c', ending: 'failed' }),
      runFactory(4, { cursorStart: 'c', cursorEnd: 'c' }),
    ];
    // The failed run is not coverage: 21 → 40 min without a run that ended on its own terms.
    expect(findGaps('chats', runs, { maxIntervalSeconds: 20 * 60, nowMs: t0 + 45 * 60_000 })).toEqual([]);
  });

  it('does not count failed or throttled runs as coverage: 60 failed runs in a row are a gap', () => {
    const runs = [
      runFactory(0, { cursorEnd: 'a' }),
      ...Array.from({ length: 60 }, (_, i) =>
        runFactory(i + 1, { cursorStart: 'a', cursorEnd: 'a', ending: i % 2 === 0 ? 'failed' : 'throttled' }),
      ),
    ];
    const gaps = findGaps('chats', runs, { maxIntervalSeconds: 15 * 60, nowMs: t0 + 605 * 60_000 });
    expect(gaps).toEqual([
      expect.objectContaining({
        kind: 'stale',
        afterRunId: 'run-0',
        from: at(1),
        detail: expect.stringContaining('60 failed, throttled or cursor-rejected in between'),
      }),
    ]);
    // A run that ends on its own terms afterwards closes it, as a pause.
    const recovered = [...runs, runFactory(61, { cursorStart: 'a', cursorEnd: 'b' })];
    expect(
      findGaps('chats', recovered, { maxIntervalSeconds: 15 * 60, nowMs: t0 + 612 * 60_000 }).map((g) => g.kind),
    ).toEqual(['pause']);
  });

  it('reports chats a run could not read until a later run finds the retry list empty', () => {
    const failed = runFactory(1, {
      unitFailureCount: 1,
      unitFailures: [{ id: 'claude_chat_x', error: 'UpstreamAuthError: 403', requestId: 'req_1' }],
      retriesPending: 1,
    });
    const still = runFactory(2, { unitFailureCount: 0, retriesPending: 1 });
    const nowMs = t0 + 25 * 60_000;
    expect(findGaps('chats', [failed, still], { ...rules, nowMs })).toEqual([
      expect.objectContaining({
        kind: 'unresolved_failures',
        beforeRunId: 'run-1',
        detail: '1 unit(s) not yet read, on the retry list: claude_chat_x',
      }),
    ]);
    const resolved = runFactory(3, { unitFailureCount: 0, retriesPending: 0 });
    expect(findGaps('chats', [failed, still, resolved], { ...rules, nowMs: t0 + 35 * 60_000 })).toEqual([]);
  });

  it('reports a run that received items off the documented shape', () => {
    expect(
      findGaps('activities', [runFactory(1, { invalidRecords: 2 })], { ...rules, nowMs: t0 + 15 * 60_000 }),
    ).toEqual([
      expect.objectContaining({
        kind: 'invalid_records',
        beforeRunId: 'run-1',
        detail: expect.stringMatching(/^2 item/),
      }),
    ]);
  });

  it('sorts by start time before chaining (the API lists newest first)', () => {
    const runs = [
      runFactory(3, { cursorStart: 'b', cursorEnd: 'c' }),
      runFactory(1, { cursorEnd: 'a' }),
      runFactory(2, { cursorStart: 'a', cursorEnd: 'b' }),
    ];
    expect(findGaps('chats', runs, { ...rules, nowMs: t0 + 35 * 60_000 })).toEqual([]);
  });

  it('reports a run that starts from a cursor no run ended at', () => {
    const gaps = findGaps(
      'chats',
      [runFactory(1, { cursorEnd: 'a' }), runFactory(2, { cursorStart: 'x', cursorEnd: 'y' })],
      { ...rules, nowMs: t0 + 25 * 60_000 },
    );
    expect(gaps).toEqual([
      expect.objectContaining({
        kind: 'cursor_break',
        afterRunId: 'run-1',
        beforeRunId: 'run-2',
        detail: 'run started from cursor x but the previous run ended at a',
      }),
    ]);
  });

  it('reports a pause between runs longer than the allowed interval, and a ledger that stopped', () => {
    const gaps = findGaps('files_api', [runFactory(0), runFactory(4)], {
      maxIntervalSeconds: 15 * 60,
      nowMs: t0 + 70 * 60_000,
    });
    expect(gaps.map((g) => g.kind)).toEqual(['pause', 'stale']);
    expect(gaps[0]).toMatchObject({ from: at(1), to: at(40), detail: 'no run for 39 min' });
    expect(gaps[1]).toMatchObject({ from: at(41), detail: `no run since ${at(41)} (29 min)` });
  });

  it('checks that activity windows follow on from the last completed window', () => {
    const ok = [
      runFactory(1, { windowStart: at(-10), windowEnd: at(0) }),
      runFactory(2, { windowStart: at(0), windowEnd: at(15), ending: 'deadline' }),
      // After a deadline the window restarts from the last completed end.
      runFactory(3, { windowStart: at(0), windowEnd: at(25) }),
      runFactory(4, { windowStart: at(25), windowEnd: at(35) }),
    ];
    expect(findGaps('activities', ok, { ...rules, nowMs: t0 + 45 * 60_000 })).toEqual([]);
    const broken = [...ok, runFactory(5, { windowStart: at(40), windowEnd: at(45) })];
    expect(findGaps('activities', broken, { ...rules, nowMs: t0 + 55 * 60_000 })).toEqual([
      expect.objectContaining({ kind: 'window_break', from: at(35), to: at(40) }),
    ]);
  });

  it('reports a rejected cursor and a poller with no runs', () => {
    expect(
      findGaps('chats', [runFactory(5, { ending: 'cursor_rejected', cursorStart: 'a', cursorEnd: 'a' })], rules).map(
        (g) => g.kind,
      ),
    ).toEqual(['cursor_rejected']);
    expect(findGaps('chats', [], rules)).toEqual([
      expect.objectContaining({ kind: 'stale', detail: 'no run recorded' }),
    ]);
  });
});
