import type { ArchivedRecord } from '../contracts/file-records.js';
import type { HoldAction, HoldProgress, LegalHoldEntry, Matter } from '../contracts/holds.js';

/**
 * The ports of the legal-hold use cases. Their DynamoDB side is shared/index/dynamodb-holds.ts, the
 * S3 side shared/archive/s3-legal-holds.ts, the queue the discovery job sender (SendMessage).
 */

/** The matters, one item each in the index table (table-keys.ts: pk `MATTER`). */
export interface MatterStore {
  /** Writes a new matter; false when one with this id exists (placed or released). */
  create(matter: Matter): Promise<boolean>;
  get(matterId: string): Promise<Matter | undefined>;
  /** Every matter, oldest id first. */
  list(): Promise<Matter[]>;
  /** Marks an active matter released and starts its release sweep; undefined when it was not active. */
  release(matterId: string, by: string, at: string, progress: HoldProgress): Promise<Matter | undefined>;
  /**
   * Records a page of the sweep done: writes `next` only while the stored progress is still at
   * (`action`, `page`); false when another delivery (or a newer sweep) got there first.
   */
  checkpoint(matterId: string, at: { action: HoldAction; page: number }, next: HoldProgress): Promise<boolean>;
  /** Notes that the message for (`action`, `page`) was sent. */
  markSent(matterId: string, at: { action: HoldAction; page: number }): Promise<void>;
}

/** One page of archived file records, in the table's own order. */
export interface HoldScanPage {
  /** Index items read to make the page (files and everything else the table holds). */
  scanned: number;
  records: ArchivedRecord[];
  nextCursor: string | undefined;
}

/** The file index as the holds see it. */
export interface HeldFiles {
  /**
   * A Scan page of archived records from `cursor` (opaque, from an earlier page), reading at most
   * `limit` index items; with `holdingMatter`, only the records that matter holds. Throws on a forged
   * cursor. Only a sweep with no list and no `from` reads this way (sweep-sources.ts).
   */
  scanArchived(cursor: string | undefined, limit: number, holdingMatter?: string): Promise<HoldScanPage>;
  /**
   * Adds the matter's entry to an archived record (and its chat listings) unless the record has one for
   * the matter already: the record after, and whether this call added the entry; undefined when not
   * archived.
   */
  addHold(fileId: string, entry: LegalHoldEntry): Promise<{ record: ArchivedRecord; added: boolean } | undefined>;
  /**
   * Removes the matter from the record (and its chat listings); the record after, or undefined when it held nothing.
   */
  removeHold(fileId: string, matterId: string): Promise<ArchivedRecord | undefined>;
  /** The record as stored now (read consistently). */
  getArchived(fileId: string): Promise<ArchivedRecord | undefined>;
}

/** The archived version a hold applies to. */
export type HeldVersion = Pick<ArchivedRecord, 'bucket' | 'key' | 'versionId'>;

/** S3 Object Lock legal holds, per version. */
export interface LegalHoldSwitch {
  set(version: HeldVersion, on: boolean, signal?: AbortSignal): Promise<void>;
}

/** Sends hold-work messages (the ingest queue). */
export interface HoldWorkSender {
  send(bodies: readonly string[], signal: AbortSignal, opts?: { delaySeconds?: number }): Promise<void>;
}
