import { ChatIdSchema, FileIdSchema } from '../../shared/contracts/ids.js';
import { UsageError } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { createLookupClient, getSeenFile } from '../lookup-client.js';
import type { FileRecordJson } from '../lookup-client.js';
import { formatBytes, renderPairs, renderTable, toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';

export interface LookupOptions {
  chat?: string | undefined;
  file?: string | undefined;
  json?: boolean | undefined;
}

/** `archiver lookup --chat ID | --file ID [--json]`: one file's record, or every record of a chat. */
export async function runLookup(opts: LookupOptions, target: StackTarget, io: CliIo): Promise<void> {
  if ((opts.chat === undefined) === (opts.file === undefined))
    throw new UsageError('give exactly one of --chat ID or --file ID');
  const client = createLookupClient(await target.lookup());
  if (opts.file !== undefined) {
    const fileId = parseId(FileIdSchema, opts.file, '--file', 'a file id (claude_gen_file_…, claude_file_… or file_…)');
    const record = await getSeenFile(client, fileId, target.label);
    io.out(opts.json ? toJson(record) : renderRecord(record));
    return;
  }
  const chatId = parseId(ChatIdSchema, opts.chat ?? '', '--chat', 'a chat id (claude_chat_…)');
  const listing = await client.listChat(chatId);
  if (opts.json) {
    io.out(toJson(listing));
    return;
  }
  if (listing.chatDeletion)
    io.out(
      `chat ${chatId} was deleted upstream` +
        `${listing.chatDeletion.deletedAt ? ` at ${listing.chatDeletion.deletedAt}` : ''} ` +
        `(${listing.chatDeletion.via}); its archived files stay`,
    );
  if (listing.files.length === 0) {
    io.out(`no files of chat ${chatId} are in the index`);
    return;
  }
  io.out(renderTable(['file id', 'status', 'filename', 'size', 'sha256', 'when', 'note'], listing.files.map(rowOf)));
  io.out(`${listing.files.length} file(s)`);
}

export function parseId(
  schema: { safeParse(v: unknown): { success: boolean } },
  value: string,
  option: string,
  what: string,
): string {
  if (!schema.safeParse(value).success) throw new UsageError(`${option} must be ${what}, not "${value.slice(0, 80)}"`);
  return value;
}

function rowOf(r: FileRecordJson): string[] {
  return [
    r.fileId,
    r.status,
    r.filename ?? '-',
    formatBytes(r.sizeBytes),
    r.status === 'archived' ? `${r.sha256.slice(0, 12)}…` : '-',
    whenOf(r),
    noteOf(r),
  ];
}

function whenOf(r: FileRecordJson): string {
  switch (r.status) {
    case 'archived':
      return r.archivedAt;
    case 'unavailable':
      return r.recordedAt;
    case 'failed':
      return r.failedAt;
    case 'pending':
      return r.firstSeenAt;
  }
}

function noteOf(r: FileRecordJson): string {
  const parts: string[] = [];
  if (r.status === 'unavailable') parts.push(r.reason);
  if (r.status === 'failed') parts.push(`${r.reason}: ${r.detail}`);
  if (r.status === 'pending') {
    parts.push(`${r.attempts} attempt(s)`);
    if (r.lastError) parts.push(r.lastError);
  }
  for (const d of r.upstreamDeletions ?? [])
    parts.push(`${d.kind} deleted upstream${d.deletedAt ? ` ${d.deletedAt}` : ''}`);
  return parts.join('; ') || '-';
}

function renderRecord(r: FileRecordJson): string {
  const pairs: [string, string | number | null | undefined][] = [];
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined) continue;
    pairs.push([
      k,
      typeof v === 'object' && v !== null
        ? JSON.stringify(v)
        : k === 'sizeBytes' && typeof v === 'number'
          ? `${v} (${formatBytes(v)})`
          : (v as string | number | null),
    ]);
  }
  return renderPairs(pairs);
}
