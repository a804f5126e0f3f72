import { CarriedMetadataSchema, IngestJobSchema, serializeJob } from '../contracts/job.js';
import type { IngestJob, JobProvenance } from '../contracts/job.js';
import { JobProvenanceSchema } from '../contracts/job.js';
import { UpstreamHttpError } from '../platform/errors.js';
import { ownerProvenance } from '../upstream/listing-schemas.js';
import type { ChatSummary } from '../upstream/listing-schemas.js';
import type { ChatMessage, ListingClient } from '../upstream/listing-client.js';
import type { RunContext } from './poller-run.js';
import type { DeletionRecorder, DiscoveryStore, JobSender } from './ports.js';
import type { Log } from '../platform/telemetry.js';

/**
 * Reading one chat, for every caller: the chat poller and `archiver backfill` read a chat after its
 * checkpoint (readChat); the webhook and `archiver enqueue --chat` read a whole chat from its first
 * message, resumably (readWholeChat). Both turn its files into ingest jobs with jobsOf.
 */
export interface ReadChatDeps {
  upstream: Pick<ListingClient, 'listChatMessages'>;
  store: Pick<DiscoveryStore, 'getChatCheckpoint' | 'putChatCheckpoint'>;
  jobs: JobSender;
  deletions: DeletionRecorder;
  log: Log;
  now: () => number;
  /** Messages per page of a chat's messages (upstream max 1000). */
  messagePageSize: number;
  /** Stamp each job with its message's time (`appearedAt`) for the capture latency (the scheduled poller). */
  stampAppearance?: boolean | undefined;
}

/** How a chat's reading ended: read to its last message, or stopped between pages (deadline, Ctrl-C). */
export type ChatReadEnding = 'done' | 'stopped';

/** What reading a chat reports to its run. */
export type ChatReadContext = Pick<RunContext, 'signal' | 'shouldStop' | 'page' | 'jobsEnqueued' | 'unitRestarted'>;

/**
 * Reads a chat's messages after its checkpoint, enqueues their files, then moves its checkpoint.
 * Also the step of `archiver backfill` (cli/), so that a chat read by either is not read again by the
 * other. Resolves 'stopped' when `ctx.shouldStop()` ended it between pages: the chat is read in part
 * and its caller must not pass over it (the listing cursor stays, or the chat goes to the retry list).
 * A 400 on the chat's stored message cursor restarts the chat from its first message (ingest absorbs
 * the duplicates) and is reported with `ctx.unitRestarted`; it never touches the poller's cursor.
 */
export async function readChat(chat: ChatSummary, ctx: ChatReadContext, deps: ReadChatDeps): Promise<ChatReadEnding> {
  const seen = await deps.store.getChatCheckpoint(chat.id);
  const updatedAt = chat.updated_at ?? null;
  // Unchanged since its last reading: nothing new can be in it (a new message bumps updated_at).
  if (seen && updatedAt !== null && seen.updatedAt === updatedAt) return 'done';
  let after = seen?.lastMessageId ?? null;
  let deletionRecorded = false;
  let restarted = false;
  for (;;) {
    let page;
    try {
      page = await deps.upstream.listChatMessages(
        chat.id,
        { afterId: after ?? undefined, limit: deps.messagePageSize },
        ctx.signal,
      );
    } catch (err) {
      if (err instanceof UpstreamHttpError && err.status === 404) {
        // Hard-deleted between the listing and now: nothing is left to read.
        deps.log.warn('chat listed but gone when its messages were read', {
          chatId: chat.id,
          requestId: err.requestId,
        });
        return 'done';
      }
      if (err instanceof UpstreamHttpError && err.status === 400 && after !== null && !restarted) {
        // The stored message id no longer works as a cursor (the message was deleted, say): read the
        // chat again from its start. Once only: a 400 without a cursor is the chat's failure.
        deps.log.warn('upstream rejected the chat message cursor; reading the chat from its first message', {
          chatId: chat.id,
          cursor: after,
          requestId: err.requestId,
        });
        ctx.unitRestarted(chat.id);
        restarted = true;
        after = null;
        continue;
      }
      throw err;
    }
    ctx.page(page);
    const deletedAt = page.chatDeletedAt ?? chat.deleted_at ?? null;
    if (deletedAt !== null && !deletionRecorded) {
      // Soft-deleted in the app: still readable, still archived; the index notes the deletion.
      await deps.deletions.recordUpstreamDeletion(
        { id: chat.id, kind: 'chat', deletedAt, via: 'chat_soft_delete' },
        deps.now(),
      );
      deletionRecorded = true;
    }
    // The listing's word on the chat first; the messages page fills what the listing did not say.
    const provenance = { ...page.chatProvenance, ...ownerProvenance(chat) };
    const bodies = jobsOf(chat.id, page.items, { stampAppearance: deps.stampAppearance === true, provenance }).map(
      (job) => serializeJob(job),
    );
    if (bodies.length > 0) {
      await deps.jobs.send(bodies, ctx.signal);
      ctx.jobsEnqueued(bodies.length);
    }
    const last = page.lastId ?? page.items.at(-1)?.id ?? null;
    if (last !== null) after = last;
    // The chat counts as read up to `updatedAt` only once its last page is handled.
    const done = !page.hasMore || last === null;
    await deps.store.putChatCheckpoint(chat.id, {
      lastMessageId: after,
      updatedAt: done ? updatedAt : (seen?.updatedAt ?? null),
    });
    if (done) return 'done';
    if (ctx.shouldStop()) return 'stopped';
  }
}

/** How reading a whole chat ended. */
export type WholeChatResult =
  | { kind: 'done'; jobs: number }
  /** Upstream has no such chat (404, or 400 on its first page: the id itself is refused). */
  | { kind: 'not_found' }
  | { kind: 'stopped'; after: string | null; jobs: number };

export interface WholeChatDeps {
  upstream: Pick<ListingClient, 'listChatMessages'>;
  jobs: JobSender;
  log: Log;
  /** Messages per page (upstream allows up to 1000). */
  messagePageSize: number;
}

/**
 * "Archive this chat now" (the webhook, `archiver enqueue --chat`, and the chat poller finishing a
 * webhook's request): reads every message of the chat from `from.after` (null = its first message)
 * and turns its files into ingest jobs with jobsOf, each with the caller's reason. Jobs go page by
 * page; `onPage` is told where the reading is after each page's jobs were accepted, so a caller can
 * checkpoint it and resume there. Unlike readChat it keeps no chat checkpoint: the caller asked for the
 * whole chat, and ingest skips files already archived. A 400 on a stored cursor restarts from the
 * first message once. Throws when upstream or the queue fails.
 */
export async function readWholeChat(
  chatId: string,
  reason: string | undefined,
  from: { after: string | null; jobs: number },
  deps: WholeChatDeps,
  signal: AbortSignal,
  opts: { shouldStop?: () => boolean; onPage?: (after: string | null, jobs: number) => Promise<void> } = {},
): Promise<WholeChatResult> {
  const sent = new Set<string>();
  let after = from.after;
  let jobs = from.jobs;
  let restarted = false;
  for (;;) {
    if (opts.shouldStop?.()) return { kind: 'stopped', after, jobs };
    let page;
    try {
      page = await deps.upstream.listChatMessages(
        chatId,
        { afterId: after ?? undefined, limit: deps.messagePageSize },
        signal,
      );
    } catch (err) {
      if (err instanceof UpstreamHttpError && (err.status === 404 || (err.status === 400 && after === null))) {
        deps.log.info('requested chat not found upstream', { chatId, status: err.status, requestId: err.requestId });
        return { kind: 'not_found' };
      }
      if (err instanceof UpstreamHttpError && err.status === 400 && !restarted) {
        deps.log.warn('upstream rejected the chat message cursor; reading the chat from its first message', {
          chatId,
          cursor: after,
          requestId: err.requestId,
        });
        restarted = true;
        after = null;
        continue;
      }
      throw err;
    }
    if (page.invalid > 0) {
      deps.log.warn('chat messages listing held entries that do not match the documented shape', {
        chatId,
        invalid: page.invalid,
        requestId: page.requestId,
      });
    }
    const fresh = jobsOf(chatId, page.items, { provenance: page.chatProvenance }).filter(
      (job) => !sent.has(job.fileId),
    );
    if (fresh.length > 0) {
      await deps.jobs.send(
        fresh.map((job) => serializeJob({ ...job, ...(reason === undefined ? {} : { reason }) })),
        signal,
      );
      for (const job of fresh) sent.add(job.fileId);
      jobs += fresh.length;
    }
    const last = page.lastId ?? page.items.at(-1)?.id ?? null;
    const done = !page.hasMore || last === null || last === after;
    if (last !== null) after = last;
    if (done) return { kind: 'done', jobs };
    await opts.onPage?.(after, jobs);
  }
}

/**
 * One job per generated and uploaded file and per artifact version of the messages (a file listed
 * twice is sent once). Each generated or uploaded file's job carries the chat id and every metadata
 * field, so the worker skips the metadata request. The message lists no `created_at` for generated
 * files: the job says null rather than guess. An artifact version's job carries its title only (the
 * message lists no hash or size for it), so the worker reads its metadata. Each job
 * also carries the chat's provenance (its creator, organization and project, as far as upstream said)
 * and the ids of the messages of this page the file appears in.
 */
export function jobsOf(
  chatId: string,
  messages: readonly ChatMessage[],
  opts: { stampAppearance?: boolean; provenance?: JobProvenance } = {},
): IngestJob[] {
  const chat = opts.provenance ?? {};
  const jobs = new Map<string, IngestJob>();
  const messageIds = new Map<string, string[]>();
  const seenIn = (fileId: string, messageId: string) => {
    const ids = messageIds.get(fileId) ?? [];
    if (!ids.includes(messageId)) ids.push(messageId);
    messageIds.set(fileId, ids);
  };
  for (const m of messages) {
    // A file listed twice keeps the time of the message read last; both are within one page.
    const appearedAt = opts.stampAppearance ? validTimestamp(m.createdAt) : null;
    const stamp = appearedAt === null ? {} : { appearedAt };
    for (const f of m.generated) {
      seenIn(f.id, m.id);
      jobs.set(
        f.id,
        withFallback({
          v: 1,
          fileId: f.id,
          chatId,
          file: {
            filename: f.filename,
            md5: f.md5 ?? null,
            mime_type: f.mime_type || null,
            size_bytes: f.size_bytes ?? null,
            created_at: null,
          },
          ...stamp,
        }),
      );
    }
    for (const a of m.artifacts ?? []) {
      // Each version is its own file; its metadata (hash, size, time) comes from the artifacts endpoint.
      seenIn(a.version_id, m.id);
      jobs.set(
        a.version_id,
        withFallback({
          v: 1,
          fileId: a.version_id,
          chatId,
          ...(a.title ? { file: { filename: a.title } } : {}),
          ...stamp,
        }),
      );
    }
    for (const f of m.uploaded) {
      seenIn(f.id, m.id);
      jobs.set(
        f.id,
        withFallback({
          v: 1,
          fileId: f.id,
          chatId,
          file: {
            filename: f.filename,
            md5: f.md5 ?? null,
            mime_type: f.mime_type || null,
            size_bytes: f.size_bytes ?? null,
            created_at: validTimestamp(f.created_at),
          },
          ...stamp,
        }),
      );
    }
  }
  return [...jobs.values()].map((job) =>
    withProvenance(job, { ...chat, messageIds: messageIds.get(job.fileId) ?? [] }),
  );
}

/** A job whose carried metadata the job schema refuses (an empty or overlong filename) goes without it. */
function withFallback(job: IngestJob): IngestJob {
  if (IngestJobSchema.safeParse(job).success) return job;
  return {
    v: 1,
    fileId: job.fileId,
    ...(job.chatId ? { chatId: job.chatId } : {}),
    ...(job.appearedAt ? { appearedAt: job.appearedAt } : {}),
  };
}

/**
 * Adds provenance to a job, field by field: a field the job schema refuses is left out (the file is
 * still archived, and the record simply does not say it) rather than losing the job over it.
 */
export function withProvenance(job: IngestJob, provenance: JobProvenance): IngestJob {
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(provenance)) {
    if (v === undefined) continue;
    if (k === 'messageIds' && Array.isArray(v) && v.length === 0) continue;
    if (JobProvenanceSchema.safeParse({ [k]: v }).success) kept[k] = v;
  }
  return Object.keys(kept).length > 0 ? { ...job, provenance: kept as JobProvenance } : job;
}

function validTimestamp(value: string | null | undefined): string | null {
  if (!value) return null;
  return CarriedMetadataSchema.shape.created_at.safeParse(value).success ? value : null;
}
