/**
 * Reading the discovery ledger for gaps (`archiver ledger`, and the lookup API's runs route).
 * Upstream publishes no totals or checksums, so the evidence that a period was covered is the chain
 * of runs: each run of a poller starts from the cursor the previous one checkpointed last, the
 * activity poller's windows follow on without a hole, and runs that ended on their own terms
 * (`completed`, or `deadline`: stopped cleanly with the checkpoint saved, the runs the stalled-poller
 * alarm counts) follow each other without a long pause. Failed, throttled and cursor-rejected runs
 * are not coverage. A run that left chats it could not read (on the retry list, not yet read) and a
 * run that received items off the documented shape are gaps too. A break anywhere is a gap.
 */
import type { LedgerRecord, PollerSource } from '../contracts/discovery-ledger.js';

export interface LedgerGap {
  source: PollerSource;
  kind:
    | 'cursor_break'
    | 'window_break'
    | 'pause'
    | 'stale'
    | 'cursor_rejected'
    | 'unresolved_failures'
    | 'invalid_records';
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
> &
  Partial<Pick<LedgerRecord, 'invalidRecords' | 'unitFailures' | 'unitFailureCount' | 'retriesPending'>>;

/** Runs that ended on their own terms: the listing read to its end, or up to a clean stop. */
function covers(run: ChainedRun): boolean {
  return run.ending === 'completed' || run.ending === 'deadline';
}

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
  // The last run that ended on its own terms, and how many runs have not since.
  let lastCovering: ChainedRun | undefined;
  let uncovered = 0;
  // Runs that left units unread since the last run that found the retry list empty.
  let unresolved: ChainedRun[] = [];
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
        detail:
          `upstream rejected cursor ${run.cursorStart ?? '(start)'}; the ` +
          `poller stays on it until an operator acts`,
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
          detail:
            `run started from cursor ${run.cursorStart ?? '(start)'} but ` +
            `the previous run ended at ${prev.cursorEnd ?? '(start)'}`,
        });
      }
      if (covers(run) && lastCovering) {
        const pause = (Date.parse(run.startedAt) - Date.parse(lastCovering.endedAt)) / 1000;
        if (pause > rules.maxIntervalSeconds) {
          gaps.push({
            source,
            kind: 'pause',
            afterRunId: lastCovering.runId,
            beforeRunId: run.runId,
            from: lastCovering.endedAt,
            to: run.startedAt,
            detail: `no run for ${Math.round(pause / 60)} min${notCovering(uncovered)}`,
          });
        }
      }
      if (source === 'activities' && completedWindowEnd !== undefined && run.windowStart !== completedWindowEnd) {
        gaps.push({
          source,
          kind: 'window_break',
          afterRunId: prev.runId,
          beforeRunId: run.runId,
          from: completedWindowEnd,
          to: run.windowStart,
          detail:
            `window starts at ${run.windowStart ?? '(feed start)'} but the ` +
            `last completed window ended at ${completedWindowEnd ?? '(none)'}`,
        });
      }
    }
    if (run.ending === 'completed') completedWindowEnd = run.windowEnd;
    if ((run.invalidRecords ?? 0) > 0) {
      gaps.push({
        source,
        kind: 'invalid_records',
        afterRunId: prev?.runId ?? null,
        beforeRunId: run.runId,
        from: run.startedAt,
        to: run.endedAt,
        detail: `${run.invalidRecords} item(s) upstream sent did not match the documented shape and were not enqueued`,
      });
    }
    if (covers(run)) {
      lastCovering = run;
      uncovered = 0;
    } else uncovered += 1;
    if (run.retriesPending === 0) unresolved = [];
    else if ((run.unitFailureCount ?? 0) > 0 || (run.retriesPending ?? 0) > 0) unresolved.push(run);
  }
  if (unresolved.length > 0) {
    const first = unresolved[0] as ChainedRun;
    const lastUnresolved = unresolved.at(-1) as ChainedRun;
    const ids = [...new Set(unresolved.flatMap((r) => (r.unitFailures ?? []).map((f) => f.id)))];
    const pending = lastUnresolved.retriesPending;
    gaps.push({
      source,
      kind: 'unresolved_failures',
      afterRunId: null,
      beforeRunId: first.runId,
      from: first.startedAt,
      to: lastUnresolved.endedAt,
      detail:
        `${pending === undefined ? 'some' : pending} unit(s) not yet read, on the retry list` +
        (ids.length > 0 ? `: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}` : ''),
    });
  }
  const last = lastCovering;
  if (ordered.length === 0) {
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
    const from = last?.endedAt ?? (ordered[0] as ChainedRun).startedAt;
    const since = (rules.nowMs - Date.parse(from)) / 1000;
    if (since > rules.maxIntervalSeconds) {
      gaps.push({
        source,
        kind: 'stale',
        afterRunId: last?.runId ?? null,
        beforeRunId: null,
        from,
        to: new Date(rules.nowMs).toISOString(),
        detail: last
          ? `no run since ${last.endedAt} (${Math.round(since / 60)} min)${notCovering(uncovered)}`
          : `no run has ended on its own terms (${uncovered} failed, throttled or cursor-rejected)`,
      });
    }
  }
  return gaps;
}

function notCovering(count: number): string {
  return count > 0 ? ` that ended on its own terms; ${count} failed, throttled or cursor-rejected in between` : '';
}
