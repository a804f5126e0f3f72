import { ChatIdSchema, FileIdSchema } from '../../shared/contracts/ids.js';
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
  tier: string;
  json?: boolean | undefined;
}

/**
 * `archiver verify (--file ID | --chat ID) [--tier cheap|deep] [--json]`: a fixity check of each
 * archived copy through the lookup API (`POST /files/{fileId}/verify`), which records it on the
 * record. One line per file as it is checked; exits 3 when any check failed.
 */
export async function runVerify(opts: VerifyOptions, target: StackTarget, io: CliIo): Promise<void> {
  if ((opts.chat === undefined) === (opts.file === undefined))
    throw new UsageError('give exactly one of --chat ID or --file ID');
  if (opts.tier !== 'cheap' && opts.tier !== 'deep') throw new UsageError('--tier must be cheap or deep');
  const tier = opts.tier;
  const client = createLookupClient(await target.lookup());
  const fileIds =
    opts.file !== undefined
      ? [parseId(FileIdSchema, opts.file, '--file', 'a file id (claude_gen_file_…, claude_file_… or file_…)')]
      : (await client.listChat(parseId(ChatIdSchema, opts.chat ?? '', '--chat', 'a chat id (claude_chat_…)'))).files
          .filter((f) => f.status === 'archived')
          .map((f) => f.fileId);
  const checks: FixityCheckJson[] = [];
  for (const [i, fileId] of fileIds.entries()) {
    const check = await client.verifyFile(fileId, tier);
    checks.push(check);
    if (!opts.json) io.out(`[${i + 1}/${fileIds.length}] ${fileId} ${check.event.outcome}: ${check.event.detail}`);
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
