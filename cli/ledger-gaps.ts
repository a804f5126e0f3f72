/**
 * Reading the discovery ledger for gaps. Upstream publishes no totals or checksums, so the evidence
 * that a period was covered is the chain of runs: each run of a poller starts from the cursor the
 * previous one checkpointed last, the activity poller's windows follow on without a hole, and runs
 * follow each other without a long pause. A break anywhere in the chain is a gap.
 */
import type { LedgerRecord, PollerSource } from '../shared/contracts/discovery-ledger.js';

export interface LedgerGap {
  source: PollerSource;
  kind: 'cursor_break' | 'window_break' | 'pause' | 'stale' | 'cursor_rejected';
  /** The run before the gap (absent for a gap at the start) and the one after (absent for `stale`). */
  afterRunId: string | null;
  beforeRunId: string | null;
  from: string | null;
  to: string | null;
  detail: string;
}

/** The fields of a ledger record that the chain is checked on. */
export type ChainedRun = Pick<
  LedgerRecord,
  'runId' | 'startedAt' | 'endedAt' | 'ending' | 'cursorStart' | 'cursorEnd' | 'windowStart' | 'windowEnd'
>;

export interface GapRules {
  /** Longer than this between one run's end and the next one's start is a pause in coverage. */
  maxIntervalSeconds: number;
  nowMs: number;
}

/**
 * Finds the gaps in one poller's runs (any order; sorted here by start). `runs` should include the
 * last run before the period asked about, so the first run of the period can be joined to it.
 */
export function findGaps(source: PollerSource, runs: readonly ChainedRun[], rules: GapRules): LedgerGap[] {
  const ordered = [...runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId));
  const gaps: LedgerGap[] = [];
  // The activity poller's next window starts where the last *completed* window ended.
  let completedWindowEnd: string | null | undefined;
  for (const [i, run] of ordered.entries()) {
    const prev = ordered[i - 1];
    if (run.ending === 'cursor_rejected') {
      gaps.push({
        source,
        kind: 'cursor_rejected',
        afterRunId: prev?.runId ?? null,
        beforeRunId: run.runId,
        from: run.startedAt,
        to: run.endedAt,
        detail: `upstream rejected cursor ${run.cursorStart ?? '(start)'}; the poller stays on it until an operator acts`,
      });
    }
    if (prev) {
      if (run.cursorStart !== prev.cursorEnd) {
        gaps.push({
          source,
          kind: 'cursor_break',
          afterRunId: prev.runId,
          beforeRunId: run.runId,
          from: prev.endedAt,
          to: run.startedAt,
          detail: `run started from cursor ${run.cursorStart ?? '(start)'} but the previous run ended at ${prev.cursorEnd ?? '(start)'}`,
        });
      }
      const pause = (Date.parse(run.startedAt) - Date.parse(prev.endedAt)) / 1000;
      if (pause > rules.maxIntervalSeconds) {
        gaps.push({
          source,
          kind: 'pause',
          afterRunId: prev.runId,
          beforeRunId: run.runId,
          from: prev.endedAt,
          to: run.startedAt,
          detail: `no run for ${Math.round(pause / 60)} min`,
        });
      }
      if (source === 'activities' && completedWindowEnd !== undefined && run.windowStart !== completedWindowEnd) {
        gaps.push({
          source,
          kind: 'window_break',
          afterRunId: prev.runId,
          beforeRunId: run.runId,
          from: completedWindowEnd,
          to: run.windowStart,
          detail: `window starts at ${run.windowStart ?? '(feed start)'} but the last completed window ended at ${completedWindowEnd ?? '(none)'}`,
        });
      }
    }
    if (run.ending === 'completed') completedWindowEnd = run.windowEnd;
  }
  const last = ordered.at(-1);
  if (!last) {
    gaps.push({
      source,
      kind: 'stale',
      afterRunId: null,
      beforeRunId: null,
      from: null,
      to: new Date(rules.nowMs).toISOString(),
      detail: 'no run recorded',
    });
  } else {
    const since = (rules.nowMs - Date.parse(last.endedAt)) / 1000;
    if (since > rules.maxIntervalSeconds) {
      gaps.push({
        source,
        kind: 'stale',
        afterRunId: last.runId,
        beforeRunId: null,
        from: last.endedAt,
        to: new Date(rules.nowMs).toISOString(),
        detail: `no run since ${last.endedAt} (${Math.round(since / 60)} min)`,
      });
    }
  }
  return gaps;
}
