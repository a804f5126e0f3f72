import type { BackfillQuery } from '../../shared/contracts/backfill-checkpoint.js';
import { BackfillHeldError, runBackfill } from '../../shared/discovery/backfill.js';
import type { BackfillResult } from '../../shared/discovery/backfill.js';
import { BudgetExhaustedError } from '../../shared/discovery/rate-budget.js';
import { ArchiverError, UpstreamAuthError, UpstreamHttpError } from '../../shared/platform/errors.js';
import { awsFailure } from '../aws-access.js';
import { budgetConfigFromEnv } from '../budget-config.js';
import { createProgressView } from '../backfill-progress.js';
import { parseDateOption } from '../dates.js';
import { createCliLog, wireDiscovery } from '../discovery-wiring.js';
import { CliError, EXIT, UsageError } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { formatDuration, toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';

export interface BackfillCommandOptions {
  since?: string | undefined;
  until?: string | undefined;
  user: string[];
  restart?: boolean | undefined;
  json?: boolean | undefined;
  progress: 'auto' | 'plain';
}

const USER_ID = /^user_[A-Za-z0-9_-]{1,200}$/;
/** A backfill's lease outlives a stalled step by this much, then another run may take over. */
const LEASE_MS = 5 * 60_000;

/** `archiver backfill`: walks chats and enqueues their files; resumable; exit 130 when interrupted. */
export async function runBackfillCommand(
  opts: BackfillCommandOptions,
  target: StackTarget,
  io: CliIo,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const nowMs = io.now();
  const since = opts.since === undefined ? null : new Date(parseDateOption(opts.since, '--since', nowMs)).toISOString();
  const until = opts.until === undefined ? null : new Date(parseDateOption(opts.until, '--until', nowMs)).toISOString();
  if (since !== null && until !== null && since >= until) throw new UsageError('--since must be before --until');
  if (opts.user.length > 10)
    throw new UsageError('at most 10 --user ids (the chats listing accepts 10 per request): run several backfills');
  for (const u of opts.user)
    if (!USER_ID.test(u)) throw new UsageError(`--user must be a user id (user_…), not "${u.slice(0, 80)}"`);
  const query: BackfillQuery = { since, until, userIds: [...new Set(opts.user)] };
  const budget = budgetConfigFromEnv(env);

  const wiring = await wireDiscovery(target, budget, io, createCliLog(io));
  const view = createProgressView(io, opts.json ? 'none' : opts.progress);
  const startedMs = io.now();
  let result: BackfillResult;
  try {
    result = await runBackfill(wiring.deps, query, {
      restart: opts.restart ?? false,
      signal: io.signal,
      leaseMs: LEASE_MS,
      maxAttempts: 6,
      onProgress: (cp, event) => view.update(cp, event),
    });
  } catch (err) {
    if (err instanceof BackfillHeldError) {
      throw new CliError(
        `another backfill with these options is running (its lease ends ` +
          `${new Date(err.leaseExpiresAtMs).toISOString()}); wait for it, ` +
          `or run with other options`,
      );
    }
    throw describeUpstreamError('backfill stopped (run the same command again to resume)', err);
  } finally {
    view.stop();
    await wiring.close();
  }
  const cp = result.checkpoint;
  const took = formatDuration((io.now() - startedMs) / 1000);
  if (opts.json) {
    io.out(
      toJson({
        ending: result.ending,
        resumed: result.resumed,
        key: cp.key,
        query: cp.query,
        chatsScanned: cp.chatsScanned,
        filesEnqueued: cp.filesEnqueued,
        startedAt: cp.startedAt,
        completedAt: cp.completedAt,
      }),
    );
  } else if (result.ending === 'completed') {
    io.out(
      `backfill completed: ${cp.chatsScanned} chats scanned, ${cp.filesEnqueued} files enqueued (this run: ${took})`,
    );
  }
  if (result.ending === 'interrupted') {
    throw new CliError(
      `interrupted after ${cp.chatsScanned} chats scanned, ${cp.filesEnqueued} ` +
        `files enqueued; run the same command again to resume`,
      EXIT.interrupted,
    );
  }
}

/** One line for a failure of the upstream, the budget or AWS, saying what to do where there is something to do. */
export function describeUpstreamError(doing: string, err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof UpstreamAuthError)
    return new CliError(
      `${doing}: upstream refused the API key (${err.status}${err.errorType ? ` ${err.errorType}` : ''}, ` +
        `request ${err.requestId ?? '?'})`,
    );
  if (err instanceof UpstreamHttpError)
    return new CliError(`${doing}: ${err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`);
  if (err instanceof BudgetExhaustedError)
    return new CliError(`${doing}: the shared ${err.api} request budget stayed exhausted; try again later`);
  if (err instanceof ArchiverError) return new CliError(`${doing}: ${err.message}`);
  return awsFailure(doing, err);
}
