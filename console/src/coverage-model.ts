/**
 * What the coverage chart draws, from the discovery ledger: per poller, the period its chain of runs
 * covers, the gaps in that chain (the same rules as `archiver ledger`: cli/ledger-gaps.ts), and each
 * run's ending. Pure, so it is unit-tested without a browser.
 */
import type { LedgerRecord, PollerSource } from '../../shared/contracts/discovery-ledger.js';
import { findGaps } from '../../cli/ledger-gaps.js';
import type { LedgerGap } from '../../cli/ledger-gaps.js';

export interface SourceCoverage {
  source: PollerSource;
  runs: LedgerRecord[];
  gaps: LedgerGap[];
  failedRuns: LedgerRecord[];
  /** Covered spans: from the first run's start to the last run's end, cut at every gap. */
  covered: { from: number; to: number }[];
}

/** The default of the …PollerStalled alarms and of `archiver ledger --max-interval`. */
export const MAX_INTERVAL_SECONDS = 30 * 60;

export function coverageOf(source: PollerSource, runs: readonly LedgerRecord[], nowMs: number): SourceCoverage {
  const ordered = [...runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId));
  const gaps = findGaps(source, ordered, { maxIntervalSeconds: MAX_INTERVAL_SECONDS, nowMs });
  const first = ordered[0];
  const last = ordered.at(-1);
  let covered: { from: number; to: number }[] = [];
  if (first && last) {
    covered = [{ from: Date.parse(first.startedAt), to: Date.parse(last.endedAt) }];
    for (const g of gaps) {
      if (g.from === null || g.to === null) continue;
      const gf = Date.parse(g.from);
      const gt = Date.parse(g.to);
      if (!(gt > gf)) {
        // A break with no width (a cursor that does not chain) still cuts the chain at that instant.
        covered = covered.flatMap((c) =>
          gf > c.from && gf < c.to
            ? [
                { from: c.from, to: gf },
                { from: gf, to: c.to },
              ]
            : [c],
        );
        continue;
      }
      covered = covered.flatMap((c) => {
        if (gt <= c.from || gf >= c.to) return [c];
        const parts: { from: number; to: number }[] = [];
        if (gf > c.from) parts.push({ from: c.from, to: gf });
        if (gt < c.to) parts.push({ from: gt, to: c.to });
        return parts;
      });
    }
  }
  return {
    source,
    runs: ordered,
    gaps,
    failedRuns: ordered.filter((r) => r.ending === 'failed' || r.ending === 'cursor_rejected' || r.error !== null),
    covered,
  };
}

/** The chart's time axis: every run and gap of every source, and now. */
export function timeRange(coverages: readonly SourceCoverage[], nowMs: number): { from: number; to: number } {
  let from = nowMs;
  let to = nowMs;
  for (const c of coverages) {
    for (const r of c.runs) {
      from = Math.min(from, Date.parse(r.startedAt));
      to = Math.max(to, Date.parse(r.endedAt));
    }
  }
  if (to - from < 60_000) from = to - 60_000;
  return { from, to };
}
