import { withStackQueuesAndIndex } from '../aws-access.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { formatDuration, renderPairs, renderTable, toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';
import { collectStatus } from '../status-report.js';
import type { StatusReport } from '../status-report.js';
import { budgetConfigFromEnv, budgetSizings } from '../budget-config.js';

export interface StatusCommandOptions {
  json?: boolean | undefined;
  files: boolean;
  staleAfterMinutes: number;
}

/** `archiver status`: exits 3 when it finds a problem (dead letters, a stalled or stuck poller). */
export async function runStatus(
  opts: StatusCommandOptions,
  target: StackTarget,
  io: CliIo,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const sizing = budgetSizings(budgetConfigFromEnv(env));
  const report: StatusReport = await withStackQueuesAndIndex(
    await target.resources(),
    io.now,
    'cannot read the status',
    (deps) =>
      collectStatus(deps, {
        stack: target.label,
        countFiles: opts.files,
        staleAfterSeconds: opts.staleAfterMinutes * 60,
        sizing,
        signal: io.signal,
      }),
  );
  io.out(opts.json ? toJson(report) : renderStatus(report));
  if (report.problems.length > 0) throw new CliError(`found ${report.problems.length} problem(s)`, EXIT.problem);
}

function renderStatus(r: StatusReport): string {
  const blocks: string[] = [];
  blocks.push(`${r.stack} at ${r.at}`);
  blocks.push(
    renderPairs([
      ['ingest queue', `${r.queue.visible} waiting, ${r.queue.inFlight} in flight, ${r.queue.delayed} delayed`],
      ['dead letters', `${r.deadLetterQueue.visible + r.deadLetterQueue.inFlight + r.deadLetterQueue.delayed}`],
    ]),
  );
  if (r.files) {
    const f = r.files;
    const rows: [string, string | number][] = [
      ['archived', f.archived],
      ...Object.entries(f.unavailable)
        .sort()
        .map(([reason, n]): [string, number] => [`unavailable: ${reason}`, n]),
      ...Object.entries(f.failed)
        .sort()
        .map(([reason, n]): [string, number] => [`FAILED: ${reason}`, n]),
      ...Object.entries(f.failing)
        .sort()
        .map(([name, n]): [string, number] => [`failing: ${name}`, n]),
      ['pending (queued or in progress)', f.pending],
    ];
    blocks.push(renderTable(['files', 'count'], rows));
  }
  blocks.push(
    renderTable(
      ['poller', 'last completed run', 'lag', 'last run', 'health'],
      r.pollers.map((p) => [
        p.source,
        p.lastCompletedAt ?? 'never',
        p.lagSeconds === null ? '-' : formatDuration(p.lagSeconds),
        p.lastRun
          ? `${p.lastRun.ending} at ${p.lastRun.endedAt}, ${p.lastRun.jobsEnqueued} ` +
            `job(s)${p.lastRun.error ? `; ${p.lastRun.error}` : ''}`
          : '-',
        p.rejectedCursor
          ? 'CURSOR REJECTED'
          : !p.lastCompletedAt && p.running
            ? 'first run in progress'
            : p.healthy
              ? p.running
                ? 'ok, running'
                : 'ok'
              : p.lastCompletedAt
                ? 'STALLED'
                : 'NO RUN',
      ]),
    ),
  );
  blocks.push(
    renderTable(
      ['budget', 'last window', 'used', 'by pollers', 'state'],
      r.budgets.map((b) => [
        b.name,
        b.lastWindow?.startedAt ?? 'never drawn from',
        b.lastWindow ? `${b.lastWindow.used} of ${b.limitPerWindow.total} per ${b.limitPerWindow.windowMs} ms` : '-',
        b.lastWindow ? `${b.lastWindow.pollerUsed} of ${b.limitPerWindow.poller}` : '-',
        b.pausedUntil
          ? `paused until ${b.pausedUntil} (429)`
          : b.factor < 1
            ? `shrunk to ${Math.round(b.factor * 100)}% after a 429 at ${b.lastThrottledAt}`
            : 'full',
      ]),
    ),
  );
  blocks.push(
    r.problems.length === 0 ? 'no problems found' : `problems:\n${r.problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  return blocks.join('\n\n');
}
