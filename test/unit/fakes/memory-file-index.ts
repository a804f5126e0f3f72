import { STATUS_FIELDS } from '../../../shared/contracts/file-records.js';
import type {
  ArchivedRecord,
  FailedRecord,
  FileRecord,
  RecordProvenance,
  UnavailableRecord,
} from '../../../shared/contracts/file-records.js';
import type { ChatPage, ClaimResult, FailureNote, FileIndex } from '../../../shared/index/file-index.js';
import { InvalidCursorError } from '../../../shared/platform/errors.js';
import { listingSortTime } from '../../../shared/contracts/table-keys.js';

type Item = Record<string, unknown>;

/** Attributes the DynamoDB index keeps on the file item that are not part of the record. */
const BOOKKEEPING = ['leaseOwner', 'leaseExpiresAtMs', 'sortAt'];

/**
 * The file index in memory, with the DynamoDB implementation's rules: a claim is a lease that only
 * its owner may finish or release, an archived file cannot be claimed, records come back with the
 * bookkeeping removed, each finished file is listed under each of its chats by creation time, a
 * finished record drops the status fields it does not set, and a claim reopens a failed file.
 */
export class MemoryFileIndex implements FileIndex {
  readonly items = new Map<string, Item>();
  private readonly listings = new Map<string, Map<string, FileRecord>>();

  async claim(fileId: string, source: string, owner: string, nowMs: number, leaseMs: number): Promise<ClaimResult> {
    const item = this.items.get(fileId);
    const lease = item?.['leaseExpiresAtMs'];
    if (!item || (item['status'] !== 'archived' && (typeof lease !== 'number' || lease < nowMs))) {
      const next: Item = { status: 'pending', firstSeenAt: new Date(nowMs).toISOString(), attempts: 0, ...item };
      Object.assign(next, {
        fileId,
        source,
        leaseOwner: owner,
        leaseExpiresAtMs: nowMs + leaseMs,
        attempts: Number(next['attempts']) + 1,
      });
      this.items.set(fileId, next);
      if (next['status'] === 'failed') {
        next['status'] = 'pending';
        for (const k of STATUS_FIELDS) delete next[k];
        this.writeListings(toRecord(next), String(next['sortAt']));
      }
      return { kind: 'claimed', attempts: Number(next['attempts']) };
    }
    if (item['status'] === 'archived') return { kind: 'archived', record: toRecord(item) as ArchivedRecord };
    return { kind: 'held', leaseExpiresAtMs: typeof lease === 'number' ? lease : nowMs };
  }

  async release(fileId: string, owner: string, failure: FailureNote): Promise<void> {
    const item = this.items.get(fileId);
    if (!item || item['leaseOwner'] !== owner) return;
    item['lastError'] = failure.error.slice(0, 500);
    if (failure.upstreamRequestId) item['lastUpstreamRequestId'] = failure.upstreamRequestId;
    delete item['leaseOwner'];
    delete item['leaseExpiresAtMs'];
  }

  async markArchived(record: ArchivedRecord, owner: string): Promise<ArchivedRecord> {
    return this.finish(record, owner, listingSortTime(record.createdAt, record.archivedAt)) as ArchivedRecord;
  }

  async markUnavailable(record: UnavailableRecord, owner: string): Promise<UnavailableRecord> {
    return this.finish(record, owner, listingSortTime(record.createdAt, record.recordedAt)) as UnavailableRecord;
  }

  async markFailed(record: FailedRecord, owner: string): Promise<FailedRecord> {
    return this.finish(record, owner, record.createdAt ?? record.failedAt) as FailedRecord;
  }

  async markDeadLettered(record: FailedRecord, nowMs: number): Promise<FailedRecord | undefined> {
    const item = this.items.get(record.fileId);
    const lease = item?.['leaseExpiresAtMs'];
    if (item && (item['status'] !== 'pending' || (typeof lease === 'number' && lease >= nowMs))) return undefined;
    if (!item) this.items.set(record.fileId, { fileId: record.fileId });
    const owner = `dead-letter:${nowMs}`;
    (this.items.get(record.fileId) as Item)['leaseOwner'] = owner;
    return this.finish(record, owner, record.createdAt ?? record.failedAt) as FailedRecord;
  }

  async ensureListed(
    fileId: string,
    chatIds: string[],
    provenance: RecordProvenance = {},
  ): Promise<FileRecord | undefined> {
    const item = this.items.get(fileId);
    const { messageIds, ...fields } = provenance;
    const writes = chatIds.length > 0 || (messageIds?.length ?? 0) > 0 || Object.keys(fields).length > 0;
    if (!item) {
      if (writes) throw new Error('ConditionalCheckFailedException: the file item does not exist');
      return undefined;
    }
    item['chatIds'] = [...new Set([...chatsOf(item), ...chatIds])].sort();
    Object.assign(item, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
    if (messageIds && messageIds.length > 0) item['messageIds'] = mergedMessageIds(item, messageIds);
    const record = toRecord(item);
    if (record.status !== 'pending') this.writeListings(record, String(item['sortAt']));
    return record;
  }

  async get(fileId: string): Promise<FileRecord | undefined> {
    const item = this.items.get(fileId);
    return item ? toRecord(item) : undefined;
  }

  async listChat(chatId: string, limit: number, cursor: string | undefined): Promise<ChatPage> {
    const listing = [...(this.listings.get(chatId) ?? new Map<string, FileRecord>()).entries()].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    let start = 0;
    if (cursor !== undefined) {
      let after: { chatId?: unknown; sk?: unknown };
      try {
        after = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof after;
      } catch {
        throw new InvalidCursorError();
      }
      if (after.chatId !== chatId || typeof after.sk !== 'string') throw new InvalidCursorError();
      start = listing.findIndex(([sk]) => sk > String(after.sk));
      if (start < 0) start = listing.length;
    }
    const page = listing.slice(start, start + limit);
    const last = page.at(-1);
    const more = start + limit < listing.length;
    return {
      items: page.map(([, r]) => r),
      nextCursor: more && last ? Buffer.from(JSON.stringify({ chatId, sk: last[0] })).toString('base64url') : undefined,
    };
  }

  private finish(record: ArchivedRecord | UnavailableRecord | FailedRecord, owner: string, sortAt: string): FileRecord {
    const item = this.items.get(record.fileId);
    if (!item || item['leaseOwner'] !== owner)
      throw new Error('ConditionalCheckFailedException: the lease is not held by this owner');
    const { chatIds, messageIds, ...fields } = record;
    for (const k of STATUS_FIELDS) if ((fields as Item)[k] === undefined) delete item[k];
    Object.assign(item, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)), {
      chatIds: [...new Set([...chatsOf(item), ...chatIds])].sort(),
    });
    if (messageIds && messageIds.length > 0) item['messageIds'] = mergedMessageIds(item, messageIds);
    item['sortAt'] ??= sortAt;
    for (const k of ['leaseOwner', 'leaseExpiresAtMs']) delete item[k];
    const stored = toRecord(item);
    this.writeListings(stored, String(item['sortAt']));
    return stored;
  }

  private writeListings(record: FileRecord, sortAt: string): void {
    for (const chatId of record.chatIds) {
      const listing = this.listings.get(chatId) ?? new Map<string, FileRecord>();
      listing.set(`F#${sortAt}#${record.fileId}`, record);
      this.listings.set(chatId, listing);
    }
  }
}

/** Message ids are a set in the DynamoDB item: added to, never replaced. */
function mergedMessageIds(item: Item, added: readonly string[]): string[] {
  const had = Array.isArray(item['messageIds']) ? (item['messageIds'] as unknown[]).map(String) : [];
  return [...new Set([...had, ...added])].sort();
}

function chatsOf(item: Item): string[] {
  const chats = item['chatIds'];
  return Array.isArray(chats) ? chats.map(String) : [];
}

function toRecord(item: Item): FileRecord {
  const copy: Item = { ...item, chatIds: chatsOf(item) };
  for (const k of BOOKKEEPING) delete copy[k];
  return structuredClone(copy) as unknown as FileRecord;
}
