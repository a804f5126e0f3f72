import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { FileIdSchema } from '../../shared/contracts/ids.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { createLookupClient, getSeenFile } from '../lookup-client.js';
import { toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';
import { compareWithRecord, downloadToFile, safeFileName, streamHashed } from '../verified-download.js';
import { parseId } from './lookup.js';

export interface DownloadOptions {
  output?: string | undefined;
  force?: boolean | undefined;
  keepUnverified?: boolean | undefined;
  json?: boolean | undefined;
}

/**
 * `archiver download <fileId> [-o PATH]`: reads the record (the evidence), follows the content
 * route's presigned redirect and re-verifies SHA-256, MD5 and size on the way. A mismatch exits 3
 * and leaves no file under the destination's name.
 */
export async function runDownload(
  fileIdArg: string,
  opts: DownloadOptions,
  target: StackTarget,
  io: CliIo,
): Promise<void> {
  const fileId = parseId(FileIdSchema, fileIdArg, 'fileId', 'a file id (claude_gen_file_…, claude_file_… or file_…)');
  const client = createLookupClient(await target.lookup());
  const record = await getSeenFile(client, fileId, target.label);
  if (record.status !== 'archived' || !record.sha256) {
    throw new CliError(`${fileId} has no archived copy (status: ${record.status})`);
  }
  const expected = { sha256: record.sha256, md5: record.md5, sizeBytes: record.sizeBytes };
  const toStdout = opts.output === '-';
  const destination = toStdout ? '-' : resolve(opts.output ?? safeFileName(record.filename, fileId));
  if (!toStdout && existsSync(destination) && !opts.force)
    throw new CliError(`${destination} exists: choose another path with -o, or pass --force`);

  const url = await client.contentUrl(fileId);
  let measured;
  let mismatches: string[];
  let path = destination;
  let kept = false;
  if (toStdout) {
    // Bytes reach stdout before the end is checked; the exit code still says whether they were intact.
    measured = await streamHashed(url, io.stdout, io.signal);
    mismatches = compareWithRecord(expected, measured);
  } else {
    const result = await downloadToFile(url, expected, destination, {
      keepMismatch: opts.keepUnverified ?? false,
      overwrite: opts.force ?? false,
      signal: io.signal,
    });
    ({ measured, mismatches, path, kept } = result);
  }
  const verified = mismatches.length === 0;
  if (opts.json) {
    io.out(
      toJson({
        fileId,
        path: toStdout ? null : path,
        verified,
        bytes: measured.bytes,
        sha256: measured.sha256,
        md5: measured.md5,
        expected: { sha256: expected.sha256, md5: expected.md5 ?? null, sizeBytes: expected.sizeBytes ?? null },
        mismatches,
      }),
    );
  } else if (verified && !toStdout) {
    io.out(`${path}: ${measured.bytes} bytes, sha256 ${measured.sha256} verified against the index`);
  }
  if (!verified) {
    const where =
      kept && !toStdout ? ` (the bytes are kept in ${path} for inspection)` : ' (nothing was written under that name)';
    throw new CliError(
      `verification failed for ${fileId}: ${mismatches.join('; ')}${toStdout ? '' : where}`,
      EXIT.problem,
    );
  }
}
