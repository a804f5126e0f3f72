import { POLLER_SOURCES } from '../../shared/contracts/discovery-ledger.js';
import type { PollerSource } from '../../shared/contracts/discovery-ledger.js';
import { parseDateOption } from '../dates.js';
import { CliError, EXIT, UsageError } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { findGaps } from '../ledger-gaps.js';
import type { LedgerGap } from '../ledger-gaps.js';
import { createLookupClient } from '../lookup-client.js';
import type { LedgerRun } from '../lookup-client.js';
import { renderTable, toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';

export interface LedgerOptions {
  since?: string | undefined;
  source?: string | undefined;
  maxIntervalMinutes: number;
  runs?: boolean | undefined;
  json?: boolean | undefined;
}

/**
 * `archiver ledger [--since DATE]`: the discovery runs of each poller from the lookup API's ledger
 * route (an auditor's credentials suffice), and the gaps in their chain. Exit 3 when there is a gap.
 */
export async function runLedger(opts: LedgerOptions, target: StackTarget, io: CliIo): Promise<void> {
  const nowMs = io.now();
  const sinceMs = opts.since === undefined ? nowMs - 86_400_000 : parseDateOption(opts.since, '--since', nowMs);
  if (opts.source !== undefined && !(POLLER_SOURCES as readonly string[]).includes(opts.source)) {
    throw new UsageError(`--source must be one of ${POLLER_SOURCES.join(', ')}`);
  }
  const sources = (opts.source ? [opts.source] : POLLER_SOURCES) as PollerSource[];
  const client = createLookupClient(await target.lookup());
  const report = [];
  for (const source of sources) {
    const runs = await client.listLedger(source, sinceMs);
    const gaps = findGaps(source, runs, { maxIntervalSeconds: opts.maxIntervalMinutes * 60, nowMs }).filter(
      (g) => !g.to || Date.parse(g.to) >= sinceMs,
    );
    const inPeriod = runs
      .filter((r) => Date.parse(r.startedAt) >= sinceMs)
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    report.push({ source, runs: inPeriod, gaps });
  }
  const allGaps = report.flatMap((r) => r.gaps);
  if (opts.json) {
    io.out(
      toJson({
        since: new Date(sinceMs).toISOString(),
        until: new Date(nowMs).toISOString(),
        sources: report,
        gaps: allGaps.length,
      }),
    );
  } else {
    io.out(`discovery ledger of ${target.label}, ${new Date(sinceMs).toISOString()} to now`);
    io.out(
      renderTable(
        [
          'poller',
          'runs',
          'completed',
          'deadline',
          'failed/throttled',
          'jobs enqueued',
          'first run',
          'last run',
          'gaps',
        ],
        report.map((r) => summaryRow(r.source, r.runs, r.gaps)),
      ),
    );
    if (opts.runs) {
      for (const r of report) {
        if (r.runs.length === 0) continue;
        io.out(`\n${r.source}`);
        io.out(
          renderTable(
            ['started', 'ended', 'ending', 'cursor from → to', 'pages', 'records', 'jobs', 'request id'],
            r.runs.map((run) => [
              run.startedAt,
              run.endedAt,
              run.ending,
              `${run.cursorStart ?? '(start)'} → ${run.cursorEnd ?? '(start)'}`,
              run.pages,
              run.records,
              run.jobsEnqueued,
              run.lastRequestId ?? '-',
            ]),
          ),
        );
      }
    }
    if (allGaps.length === 0) io.out('no gaps: every run starts where the one before it ended');
    else {
      io.out(`\n${allGaps.length} gap(s):`);
      io.out(
        renderTable(
          ['poller', 'kind', 'from', 'to', 'detail'],
          allGaps.map((g) => [g.source, g.kind, g.from ?? '-', g.to ?? '-', g.detail]),
        ),
      );
    }
  }
  if (allGaps.length > 0) throw new CliError(`found ${allGaps.length} gap(s) in the discovery ledger`, EXIT.problem);
}

function summaryRow(source: string, runs: LedgerRun[], gaps: LedgerGap[]): (string | number)[] {
  const count = (...endings: string[]) => runs.filter((r) => endings.includes(r.ending)).length;
  return [
    source,
    runs.length,
    count('completed'),
    count('deadline'),
    count('failed', 'throttled', 'cursor_rejected'),
    runs.reduce((n, r) => n + r.jobsEnqueued, 0),
    runs[0]?.startedAt ?? '-',
    runs.at(-1)?.endedAt ?? '-',
    gaps.length,
  ];
}
