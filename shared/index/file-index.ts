import type {
  ArchivedRecord,
  FailedRecord,
  FileRecord,
  RecordProvenance,
  UnavailableRecord,
} from '../contracts/file-records.js';

/**
 * The file index as the use cases see it (a port): one record per file that doubles as a lease, and
 * a listing per chat. The DynamoDB implementation is shared/index/dynamodb-file-index.ts; unit tests
 * use an in-memory one. Only the delivery holding the claim (`owner`) may finish or release a file.
 */
export interface FileIndex {
  /**
   * Takes the file for this delivery, unless it is archived or another delivery's lease is live. A
   * file recorded `failed` becomes pending again (a new job or a redrive of its dead letter).
   */
  claim(fileId: string, source: string, owner: string, nowMs: number, leaseMs: number): Promise<ClaimResult>;
  /**
   * Records why this delivery failed (`lastError` and `lastUpstreamRequestId`, shown as the pending
   * record's evidence) and gives the claim up, so the next delivery need not wait for the lease. A
   * no-op when the lease has passed on.
   */
  release(fileId: string, owner: string, failure: FailureNote): Promise<void>;
  /** Records the verified copy, ends the lease and lists the file under each of its chats. */
  markArchived(record: ArchivedRecord, owner: string): Promise<ArchivedRecord>;
  /** Records why no copy can exist (a final outcome), ends the lease and lists the file under each chat. */
  markUnavailable(record: UnavailableRecord, owner: string): Promise<UnavailableRecord>;
  /** Records that upstream said no retry can succeed (a final failure), ends the lease and lists the file. */
  markFailed(record: FailedRecord, owner: string): Promise<FailedRecord>;
  /**
   * Records a file whose job is going to the dead-letter queue as failed and lists it, when the file
   * is pending and no delivery holds it (or has no item yet). Undefined when it was not: the file is
   * archived, recorded unavailable, or another delivery holds a live lease.
   */
  markDeadLettered(record: FailedRecord, nowMs: number): Promise<FailedRecord | undefined>;
  /**
   * Adds chats to a file already in the index and (re)writes its listing under every chat it belongs
   * to (not while it is pending); idempotent, so a redelivery repairs a listing a crash left unwritten.
   * The provenance given is written over the record's (message ids are added to those it has), so a
   * file archived before provenance was kept gains it when it is seen again.
   */
  ensureListed(fileId: string, chatIds: string[], provenance?: RecordProvenance): Promise<FileRecord | undefined>;
  /** One file's record, read consistently. */
  get(fileId: string): Promise<FileRecord | undefined>;
  /** A page of a chat's files in upstream creation order. Throws InvalidCursorError for a foreign or forged cursor. */
  listChat(chatId: string, limit: number, cursor: string | undefined): Promise<ChatPage>;
}

/** What a failed delivery leaves on the pending record. */
export interface FailureNote {
  /** The error, in words safe to show an auditor (describeForRecord). */
  error: string;
  /** The `request-id` of the last upstream answer, when there was one. */
  upstreamRequestId: string | null;
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
