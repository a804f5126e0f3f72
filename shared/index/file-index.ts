import type { ArchivedRecord, FileRecord, UnavailableRecord } from '../contracts/file-records.js';

/**
 * The file index as the use cases see it (a port): one record per file that doubles as a lease, and
 * a listing per chat. The DynamoDB implementation is shared/index/dynamodb-file-index.ts; unit tests
 * use an in-memory one. Only the delivery holding the claim (`owner`) may finish or release a file.
 */
export interface FileIndex {
  /** Takes the file for this delivery, unless it is archived or another delivery's lease is live. */
  claim(fileId: string, source: string, owner: string, nowMs: number, leaseMs: number): Promise<ClaimResult>;
  /**
   * Records why this delivery failed (`lastError`, shown as the pending record's evidence) and gives
   * the claim up, so the next delivery need not wait for the lease. A no-op when the lease has passed on.
   */
  release(fileId: string, owner: string, lastError: string): Promise<void>;
  /** Records the verified copy, ends the lease and lists the file under each of its chats. */
  markArchived(record: ArchivedRecord, owner: string): Promise<ArchivedRecord>;
  /** Records why no copy can exist (a final outcome), ends the lease and lists the file under each chat. */
  markUnavailable(record: UnavailableRecord, owner: string): Promise<UnavailableRecord>;
  /**
   * Adds chats to a file already in the index and (re)writes its listing under every chat it belongs
   * to (not while it is pending); idempotent, so a redelivery repairs a listing a crash left unwritten.
   */
  ensureListed(fileId: string, chatIds: string[]): Promise<FileRecord | undefined>;
  /** One file's record, read consistently. */
  get(fileId: string): Promise<FileRecord | undefined>;
  /** A page of a chat's files in upstream creation order. Throws InvalidCursorError for a foreign or forged cursor. */
  listChat(chatId: string, limit: number, cursor: string | undefined): Promise<ChatPage>;
}

export type ClaimResult =
  | { kind: 'claimed'; attempts: number }
  | { kind: 'archived'; record: ArchivedRecord }
  | { kind: 'held'; leaseExpiresAtMs: number };

export interface ChatPage {
  items: FileRecord[];
  /** Opaque; pass back as `cursor` for the next page. Absent on the last page. */
  nextCursor: string | undefined;
}
