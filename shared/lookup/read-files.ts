import type { DownloadSigner } from '../archive/archive-store.js';
import type { FileRecord } from '../contracts/file-records.js';
import type { ChatPage, FileIndex } from '../index/file-index.js';
import { RequestRejectedError } from '../platform/errors.js';

/**
 * The auditors' read use cases, over the ports. Inputs are already validated (ids, limit); what the
 * caller cannot have is a RequestRejectedError, which the HTTP layer maps to a status.
 */
export type FileReader = Pick<FileIndex, 'get' | 'listChat'>;

/** A page of a chat's files; a cursor issued for another chat is rejected (InvalidCursorError). */
export function listChatFiles(
  index: FileReader,
  chatId: string,
  limit: number,
  cursor: string | undefined,
): Promise<ChatPage> {
  return index.listChat(chatId, limit, cursor);
}

/** One file's record, whatever its status: archived, unavailable (with why) or pending. */
export async function readFileRecord(index: FileReader, fileId: string): Promise<FileRecord> {
  const record = await index.get(fileId);
  if (!record) throw new RequestRejectedError('not_found', 'No file with this id has been seen.');
  return record;
}

/** A short-lived URL for the exact archived version; rejected when no archived copy exists. */
export async function presignFileDownload(
  index: FileReader,
  downloads: DownloadSigner,
  fileId: string,
  ttlSeconds: number,
): Promise<string> {
  const record = await readFileRecord(index, fileId);
  if (record.status !== 'archived') {
    throw new RequestRejectedError('not_archived', `No archived copy exists (status: ${record.status}).`);
  }
  return downloads.presignDownload(record, ttlSeconds);
}
