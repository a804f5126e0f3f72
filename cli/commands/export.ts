import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExportIdSchema, ExportRequestSchema } from '../../shared/contracts/exports.js';
import { sleepFor } from '../../shared/platform/abortable-sleep.js';
import { parseDateOption } from '../dates.js';
import { CliError, EXIT, UsageError } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { createLookupClient } from '../lookup-client.js';
import type { ExportJobJson } from '../lookup-client.js';
import { formatBytes, toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';
import { downloadToFile } from '../verified-download.js';

export interface ExportOptions {
  chat: string[];
  user: string[];
  project: string[];
  file: string[];
  from?: string | undefined;
  to?: string | undefined;
  matter?: string | undefined;
  description?: string | undefined;
  status?: string | undefined;
  wait?: boolean | undefined;
  download?: string | undefined;
  force?: boolean | undefined;
  pollSeconds: number;
  json?: boolean | undefined;
}

/**
 * `archiver export`: starts an export through the lookup API (or, with --status, reads one), waits
 * for it if asked, and downloads the bag, re-computing its SHA-256 on the way and comparing it with
 * the one the API reports. A bag that does not match exits 3 and is not left under its name.
 */
export async function runExport(opts: ExportOptions, target: StackTarget, io: CliIo): Promise<void> {
  const destination = opts.download ? resolve(opts.download) : undefined;
  if (destination && existsSync(destination) && !opts.force)
    throw new CliError(`${destination} exists: choose another path with --download, or pass --force`);
  const client = createLookupClient(await target.lookup());
  let job: ExportJobJson;
  if (opts.status) {
    const parsed = ExportIdSchema.safeParse(opts.status);
    if (!parsed.success)
      throw new UsageError(`--status must be an export id (exp_…), not "${opts.status.slice(0, 60)}"`);
    job = await client.getExport(parsed.data);
  } else {
    job = await client.startExport(buildRequest(opts, io.now()));
    if (!opts.json) io.err(`export ${job.exportId} queued`);
  }
  if (opts.wait || destination) job = await waitFor(client, job, opts, io);
  if (job.status === 'failed') {
    if (opts.json) io.out(toJson(job));
    throw new CliError(`export ${job.exportId} failed: ${job.error ?? 'no reason recorded'}`, EXIT.problem);
  }
  let downloaded: { path: string; sha256: string; bytes: number } | undefined;
  if (destination) {
    if (!job.download) throw new CliError(`export ${job.exportId} is complete but the API gave no download link`);
    const { measured, mismatches, path } = await downloadToFile(
      job.download.url,
      { sha256: job.download.sha256, sizeBytes: job.download.bytes },
      destination,
      { keepMismatch: false, overwrite: opts.force ?? false, signal: io.signal },
    );
    if (mismatches.length > 0) {
      throw new CliError(
        `the downloaded bag does not match the export: ${mismatches.join('; ')} (nothing was written under that name)`,
        EXIT.problem,
      );
    }
    downloaded = { path, sha256: measured.sha256, bytes: measured.bytes };
  }
  if (opts.json) {
    io.out(toJson({ ...job, ...(downloaded ? { downloaded: { ...downloaded, verified: true } } : {}) }));
    return;
  }
  const c = job.counts;
  io.out(
    `${job.exportId}: ${job.status}; ${c.exported} of ${c.matched} files in the bag (${formatBytes(c.payloadBytes)})` +
      (c.notArchived > 0 ? `, ${c.notArchived} in scope without an archived copy` : ''),
  );
  if (downloaded) io.out(`${downloaded.path}: ${downloaded.bytes} bytes, sha256 ${downloaded.sha256} verified`);
  else if (job.status !== 'completed') io.out(`check again: archiver export --status ${job.exportId} --wait`);
}

function buildRequest(opts: ExportOptions, nowMs: number): unknown {
  const scope = {
    ...(opts.chat.length > 0 ? { chats: opts.chat } : {}),
    ...(opts.user.length > 0 ? { users: opts.user } : {}),
    ...(opts.project.length > 0 ? { projects: opts.project } : {}),
    ...(opts.file.length > 0 ? { fileIds: opts.file } : {}),
    ...(opts.from ? { from: new Date(parseDateOption(opts.from, '--from', nowMs)).toISOString() } : {}),
    ...(opts.to ? { to: new Date(parseDateOption(opts.to, '--to', nowMs)).toISOString() } : {}),
  };
  const request = {
    ...(Object.keys(scope).length > 0 ? { scope } : {}),
    ...(opts.matter ? { matterId: opts.matter } : {}),
    ...(opts.description ? { description: opts.description } : {}),
  };
  // Checked here too, so that a wrong command line is a usage error before any request.
  const parsed = ExportRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new UsageError(`${where}${issue?.message ?? 'invalid export request'}`);
  }
  return parsed.data;
}

async function waitFor(
  client: ReturnType<typeof createLookupClient>,
  first: ExportJobJson,
  opts: ExportOptions,
  io: CliIo,
): Promise<ExportJobJson> {
  let job = first;
  let last = '';
  while (job.status === 'queued' || job.status === 'running') {
    const line = `${job.status}: ${job.counts.exported} of ${job.counts.matched || '?'} files`;
    if (line !== last && !opts.json) io.err(line);
    last = line;
    await sleepFor(opts.pollSeconds * 1000, io.signal);
    job = await client.getExport(job.exportId);
  }
  return job;
}
