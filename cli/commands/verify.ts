import { randomInt } from 'node:crypto';
import { Presets, SingleBar } from 'cli-progress';
import { ChatIdSchema, FileIdSchema } from '../../shared/contracts/ids.js';
import { parseCount, parseDateOption } from '../dates.js';
import { CliError, EXIT, UsageError } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { createLookupClient } from '../lookup-client.js';
import type { FixityCheckJson } from '../lookup-client.js';
import { renderTable, toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';
import { parseId } from './lookup.js';

export interface VerifyOptions {
  file?: string | undefined;
  chat?: string | undefined;
  /** Archived files created upstream at or after this (a date option: cli/dates.ts). */
  since?: string | undefined;
  /** Files whose creator has this user id or email (the search API's creator filter). */
  user?: string | undefined;
  /** Check this many, drawn at random from the selection (alone: from every archived file). */
  sample?: string | undefined;
  tier: string;
  json?: boolean | undefined;
}

/** The most files a selection by search reads before sampling or checking. */
export const MAX_SELECTION = 100_000;

/** `n` of `items` drawn uniformly at random (a partial Fisher-Yates shuffle with node:crypto's randomInt). */
export function drawSample<T>(items: readonly T[], n: number, rand: (max: number) => number = randomInt): T[] {
  const pool = [...items];
  const k = Math.min(n, pool.length);
  for (let i = 0; i < k; i++) {
    const j = i + rand(pool.length - i);
    [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
  }
  return pool.slice(0, k);
}

interface VerifyProgress {
  checked(fileId: string, outcome: string, detail: string): void;
  stop(): void;
}

/** A live bar (cli-progress) on a terminal, one plain line per file elsewhere, nothing with --json. */
function progressView(io: CliIo, total: number, json: boolean): VerifyProgress {
  if (json) return { checked: () => undefined, stop: () => undefined };
  if (!io.stdout.isTTY) {
    let i = 0;
    return {
      checked: (fileId, outcome, detail) => io.out(`[${++i}/${total}] ${fileId} ${outcome}: ${detail}`),
      stop: () => undefined,
    };
  }
  const bar = new SingleBar(
    { format: 'verify [{bar}] {value}/{total} | failed {failed} | ETA {eta_formatted}', stream: io.stdout },
    Presets.shades_classic,
  );
  let failed = 0;
  bar.start(total, 0, { failed });
  return {
    checked: (_fileId, outcome) => {
      if (outcome === 'failed') failed += 1;
      bar.increment(1, { failed });
    },
    stop: () => bar.stop(),
  };
}

/**
 * `archiver verify (--file ID | --chat ID | [--since DATE] [--user USER]) [--sample N] [--tier cheap|deep] [--json]`:
 * a fixity check of each archived copy through the lookup API (`POST /files/{fileId}/verify`), which
 * records it on the record. A bar on a terminal, one line per file otherwise; exits 3 when any check failed.
 */
export async function runVerify(opts: VerifyOptions, target: StackTarget, io: CliIo): Promise<void> {
  const selectors = [opts.file, opts.chat, opts.since ?? opts.user].filter((o) => o !== undefined);
  if (selectors.length > 1 || (selectors.length === 0 && opts.sample === undefined))
    throw new UsageError('give one of --file ID, --chat ID, or --since DATE and/or --user USER; or --sample N alone');
  if (opts.tier !== 'cheap' && opts.tier !== 'deep') throw new UsageError('--tier must be cheap or deep');
  const tier = opts.tier;
  const sample = opts.sample === undefined ? undefined : parseCount(opts.sample, '--sample', MAX_SELECTION);
  const since = opts.since === undefined ? undefined : parseDateOption(opts.since, '--since', io.now());
  const client = createLookupClient(await target.lookup());
  let fileIds: string[];
  if (opts.file !== undefined)
    fileIds = [parseId(FileIdSchema, opts.file, '--file', 'a file id (claude_gen_file_…, claude_file_… or file_…)')];
  else if (opts.chat !== undefined)
    fileIds = (await client.listChat(parseId(ChatIdSchema, opts.chat, '--chat', 'a chat id (claude_chat_…)'))).files
      .filter((f) => f.status === 'archived')
      .map((f) => f.fileId);
  else {
    // One search (docs/lookup-api.md): the creator with an optional period, or the archived status
    // with an optional period; the status is then checked here (creator and status do not combine).
    const filters: Record<string, string> = {
      ...(opts.user !== undefined ? { creator: opts.user } : { status: 'archived' }),
      ...(since !== undefined ? { from: new Date(since).toISOString() } : {}),
    };
    const found = await client.search(filters, MAX_SELECTION);
    if (found.more)
      io.err(`archiver: the selection has more than ${MAX_SELECTION} files; the first ${MAX_SELECTION} are used`);
    fileIds = found.files.filter((f) => f.status === 'archived').map((f) => f.fileId);
  }
  if (sample !== undefined) fileIds = drawSample(fileIds, sample);
  const checks: FixityCheckJson[] = [];
  const progress = progressView(io, fileIds.length, opts.json === true);
  try {
    for (const fileId of fileIds) {
      if (io.signal.aborted) break;
      const check = await client.verifyFile(fileId, tier);
      checks.push(check);
      progress.checked(fileId, check.event.outcome, check.event.detail);
    }
  } finally {
    progress.stop();
  }
  const failed = checks.filter((c) => c.event.outcome === 'failed');
  if (opts.json) io.out(toJson({ tier, checked: checks.length, failed: failed.length, checks }));
  else if (checks.length === 0) io.out('no archived files to verify');
  else if (failed.length > 0)
    io.out(
      renderTable(
        ['file id', 'detail'],
        failed.map((c) => [c.fileId, c.event.detail]),
      ),
    );
  if (failed.length > 0)
    throw new CliError(`${failed.length} of ${checks.length} fixity check(s) failed`, EXIT.problem);
}
