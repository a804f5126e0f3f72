/**
 * In-memory fakes of the discovery ports (shared/discovery/ports.ts) and of the listing client, for
 * unit tests of poller-run.ts, the pollers and the chat readers. They keep what they were told, so a
 * test asserts on the state a run left (checkpoints, the retry list, the ledger, the jobs sent). The
 * DynamoDB and SQS adapters are tested against dynalite and fauxqs in test/integration.
 */
import type { BackfillCheckpoint } from '../../shared/contracts/backfill-checkpoint.js';
import type { BackfillStore } from '../../shared/discovery/backfill.js';
import type { LedgerRecord, PollerSource } from '../../shared/contracts/discovery-ledger.js';
import type { IngestJob } from '../../shared/contracts/job.js';
import { UpstreamHttpError } from '../../shared/platform/errors.js';
import type { Counters, Log } from '../../shared/platform/telemetry.js';
import type {
  ChatCheckpoint,
  ChatRequest,
  ChatRequestStore,
  DeletionRecorder,
  DiscoveryStore,
  JobSender,
  PollerCheckpoint,
  PollerLease,
  RetryEntry,
  UpstreamDeletion,
} from '../../shared/discovery/ports.js';
import type {
  ChatMessage,
  ChatMessagesPage,
  ListingClient,
  ListingPage,
} from '../../shared/upstream/listing-client.js';
import type { ChatSummary } from '../../shared/upstream/listing-schemas.js';

export class MemoryDiscoveryStore implements DiscoveryStore, ChatRequestStore {
  readonly chatRequests = new Map<string, ChatRequest>();

  async putChatRequest(request: ChatRequest) {
    this.chatRequests.set(`${request.webhookId}#${request.chatId}`, { ...request });
  }

  async listChatRequests(limit: number) {
    return [...this.chatRequests.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .slice(0, limit)
      .map(([, r]) => ({ ...r }));
  }

  async deleteChatRequest(webhookId: string, chatId: string) {
    this.chatRequests.delete(`${webhookId}#${chatId}`);
  }

  readonly leases = new Map<PollerSource, { owner: string; expiresAtMs: number; generation: number }>();
  readonly checkpoints = new Map<PollerSource, PollerCheckpoint & { generation: number }>();
  readonly chatCheckpoints = new Map<string, ChatCheckpoint>();
  readonly seenActivities = new Set<string>();
  readonly ledger: LedgerRecord[] = [];
  readonly retries = new Map<PollerSource, Map<string, RetryEntry>>();

  async acquireLease(source: PollerSource, owner: string, nowMs: number, leaseMs: number) {
    const held = this.leases.get(source);
    if (held && held.expiresAtMs >= nowMs && held.owner !== '') return undefined;
    const generation = (held?.generation ?? 0) + 1;
    this.leases.set(source, { owner, expiresAtMs: nowMs + leaseMs, generation });
    return { owner, generation };
  }

  async releaseLease(source: PollerSource, lease: PollerLease) {
    const held = this.leases.get(source);
    if (held && held.owner === lease.owner && held.generation === lease.generation)
      this.leases.set(source, { owner: '', expiresAtMs: 0, generation: held.generation });
  }

  async getCheckpoint(source: PollerSource) {
    const cp = this.checkpoints.get(source);
    if (!cp) return undefined;
    const { generation: _g, ...rest } = cp;
    return structuredClone(rest);
  }

  async putCheckpoint(source: PollerSource, checkpoint: PollerCheckpoint, lease: PollerLease) {
    const stored = this.checkpoints.get(source);
    if (stored && stored.generation > lease.generation) return false;
    this.checkpoints.set(source, { ...structuredClone(checkpoint), generation: lease.generation });
    return true;
  }

  async getChatCheckpoint(chatId: string) {
    const cp = this.chatCheckpoints.get(chatId);
    return cp ? { ...cp } : undefined;
  }

  async putChatCheckpoint(chatId: string, checkpoint: ChatCheckpoint) {
    this.chatCheckpoints.set(chatId, { ...checkpoint });
  }

  async hasSeenActivity(activityId: string) {
    return this.seenActivities.has(activityId);
  }

  async markActivitiesSeen(activityIds: readonly string[]) {
    for (const id of activityIds) this.seenActivities.add(id);
  }

  async putLedger(record: LedgerRecord) {
    if (this.ledger.some((r) => r.source === record.source && r.runId === record.runId))
      throw new Error('ledger record exists');
    this.ledger.push(structuredClone(record));
  }

  async listRetries(source: PollerSource, limit: number) {
    return [...(this.retries.get(source)?.values() ?? [])]
      .sort((a, b) => a.unitId.localeCompare(b.unitId))
      .slice(0, limit)
      .map((r) => ({ ...r }));
  }

  async putRetry(source: PollerSource, entry: RetryEntry) {
    const list = this.retries.get(source) ?? new Map<string, RetryEntry>();
    list.set(entry.unitId, { ...entry });
    this.retries.set(source, list);
  }

  async deleteRetry(source: PollerSource, unitId: string) {
    this.retries.get(source)?.delete(unitId);
  }

  retryList(source: PollerSource): RetryEntry[] {
    return [...(this.retries.get(source)?.values() ?? [])];
  }
}

/** Keeps every body the queue "accepted"; `fail` makes the next sends throw. */
export class MemoryJobSender implements JobSender {
  readonly bodies: string[] = [];
  private readonly failures: unknown[] = [];

  fail(...errors: unknown[]): void {
    this.failures.push(...errors);
  }

  async send(bodies: readonly string[], signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.failures.length > 0) throw this.failures.shift();
    this.bodies.push(...bodies);
  }

  jobs(): IngestJob[] {
    return this.bodies.map((b) => JSON.parse(b) as IngestJob);
  }
}

export class MemoryDeletions implements DeletionRecorder {
  readonly recorded: UpstreamDeletion[] = [];
  async recordUpstreamDeletion(deletion: UpstreamDeletion) {
    this.recorded.push(deletion);
  }
}

export interface FakeChat {
  summary: ChatSummary;
  messages: ChatMessage[];
}

/** What a test may do to one messages request: throw, wait, or let it through. */
export type MessagesHook = (chatId: string, afterId: string | undefined, signal: AbortSignal) => Promise<void> | void;

/**
 * The Compliance API's chat listings over chats held in memory: chats ordered as added (as by
 * `updated_at`), messages in order, `last_id` the last item's id as upstream sends it. A messages
 * request for an unknown chat answers 404; a stored message cursor that is not a message of the chat
 * answers 400, as upstream does.
 */
export class FakeListing implements ListingClient {
  readonly chats: FakeChat[] = [];
  readonly requests: { kind: 'chats' | 'messages'; chatId?: string; afterId: string | undefined }[] = [];
  onMessages: MessagesHook | undefined;
  private readonly faults = new Map<string, unknown[]>();

  addChat(chatId: string, messages: ChatMessage[], updatedAt = '2025-06-01T00:00:00Z'): FakeChat {
    const chat = { summary: { id: chatId, updated_at: updatedAt }, messages };
    this.chats.push(chat);
    return chat;
  }

  /** The next messages requests of `chatId` throw these errors, in order. */
  failMessages(chatId: string, ...errors: unknown[]): void {
    this.faults.set(chatId, [...(this.faults.get(chatId) ?? []), ...errors]);
  }

  async listChats(query: { afterId?: string | undefined; limit: number }, signal: AbortSignal) {
    signal.throwIfAborted();
    this.requests.push({ kind: 'chats', afterId: query.afterId });
    return page(
      this.chats.map((c) => c.summary),
      query,
    );
  }

  /** The backfill's listing: the same chats (bounds and users are not modelled). */
  async searchChats(query: { afterId?: string | undefined; limit: number }, signal: AbortSignal) {
    return this.listChats(query, signal);
  }

  async listChatMessages(
    chatId: string,
    query: { afterId?: string | undefined; limit: number },
    signal: AbortSignal,
  ): Promise<ChatMessagesPage> {
    signal.throwIfAborted();
    this.requests.push({ kind: 'messages', chatId, afterId: query.afterId });
    await this.onMessages?.(chatId, query.afterId, signal);
    const fault = this.faults.get(chatId)?.shift();
    if (fault !== undefined) throw fault;
    const chat = this.chats.find((c) => c.summary.id === chatId);
    if (!chat) throw new UpstreamHttpError(404, 'not_found_error', `req_404_${chatId}`, { retryable: false });
    if (query.afterId !== undefined && !chat.messages.some((m) => m.id === query.afterId))
      throw new UpstreamHttpError(400, 'invalid_request_error', `req_400_${chatId}`, { retryable: false });
    return { ...page(chat.messages, query), chatDeletedAt: null, chatProvenance: {} };
  }

  async listActivities(): Promise<never> {
    throw new Error('not used by these tests');
  }

  async listProjects(): Promise<never> {
    throw new Error('not used by these tests');
  }

  async listProjectAttachments(): Promise<never> {
    throw new Error('not used by these tests');
  }

  async listFiles(): Promise<never> {
    throw new Error('not used by these tests');
  }
}

function page<T extends { id: string }>(
  all: readonly T[],
  query: { afterId?: string | undefined; limit: number },
): ListingPage<T> {
  const from = query.afterId === undefined ? 0 : all.findIndex((x) => x.id === query.afterId) + 1;
  const items = all.slice(from, from + query.limit);
  return {
    items: [...items],
    invalid: 0,
    hasMore: from + query.limit < all.length,
    lastId: items.at(-1)?.id ?? null,
    requestId: `req_page_${from}`,
  };
}

/** A message with one uploaded file. */
export function messageWithFile(messageId: string, fileId: string, filename = 'report.pdf'): ChatMessage {
  return {
    id: messageId,
    createdAt: '2025-06-01T00:00:00Z',
    uploaded: [{ id: fileId, filename, md5: null, mime_type: 'application/pdf', size_bytes: 10 }],
    generated: [],
  };
}

/** Backfill checkpoints in memory, one lease per key. */
export class MemoryBackfillStore implements BackfillStore {
  readonly checkpoints = new Map<string, BackfillCheckpoint>();
  private readonly owners = new Map<string, string>();

  async acquire(key: string, owner: string) {
    if (this.owners.has(key)) return { kind: 'held' as const, leaseExpiresAtMs: 0 };
    this.owners.set(key, owner);
    return { kind: 'acquired' as const, checkpoint: structuredClone(this.checkpoints.get(key)) };
  }

  async save(checkpoint: BackfillCheckpoint, owner: string) {
    if (this.owners.get(checkpoint.key) !== owner) return false;
    this.checkpoints.set(checkpoint.key, structuredClone(checkpoint));
    return true;
  }

  async release(key: string, owner: string) {
    if (this.owners.get(key) === owner) this.owners.delete(key);
  }
}

export const silentLog: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
export const noCounters: Counters = { record: () => undefined };
