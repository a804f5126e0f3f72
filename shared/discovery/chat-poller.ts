import { CarriedMetadataSchema, IngestJobSchema, serializeJob } from '../contracts/job.js';
import type { IngestJob } from '../contracts/job.js';
import { UpstreamHttpError } from '../platform/errors.js';
import type { ChatSummary } from '../upstream/listing-schemas.js';
import type { ChatMessage } from '../upstream/listing-client.js';
import { asCursorRejection, runPoller } from './poller-run.js';
import type { RunContext, RunOptions, RunOutcome } from './poller-run.js';
import type { DeletionRecorder, PollerDeps } from './ports.js';

export interface ChatPollerDeps extends PollerDeps {
  deletions: DeletionRecorder;
  /** Messages per page of a chat's messages (upstream max 1000). */
  messagePageSize: number;
  /**
   * Chats of a page read at once (default 8). Each chat's reading is a chain of short waits (its
   * checkpoint, the budget, the messages, the queue); reading several at once keeps the pollers'
   * share of the budget in use. The listing's cursor still moves only after the whole page.
   */
  chatConcurrency?: number;
  /**
   * Stamp each job with its message's time (`appearedAt`), so ingest reports the capture latency.
   * The scheduled poller does; `archiver backfill`, which reads the past on purpose, does not.
   */
  stampAppearance?: boolean;
}

/**
 * The chat poller: walks chats org-wide ordered by `updated_at` from the checkpointed `after_id`,
 * and for every new or changed chat reads the messages after the last one seen in that chat. Each
 * generated and uploaded file becomes one ingest job carrying the chat id and the metadata the
 * message lists, so the worker needs no metadata request. A chat's checkpoint moves only after its
 * jobs were accepted by the queue, and the listing's cursor only after every chat of the page was
 * handled: a crash re-reads, never skips (ingest is idempotent, so a re-read costs duplicates only).
 */
export function runChatPoller(deps: ChatPollerDeps, opts: RunOptions): Promise<RunOutcome> {
  return runPoller('chats', deps, opts, (ctx) => pollChats(ctx, deps));
}

async function pollChats(ctx: RunContext, deps: ChatPollerDeps): Promise<'completed' | 'deadline'> {
  let cursor = ctx.checkpoint?.cursor ?? null;
  for (;;) {
    if (ctx.shouldStop()) return 'deadline';
    let page;
    try {
      page = await deps.upstream.listChats({ afterId: cursor ?? undefined, limit: deps.pageSize }, ctx.signal);
    } catch (err) {
      throw asCursorRejection(err, cursor);
    }
    ctx.page(page);
    const pending = [...page.items];
    let stopped = false;
    await Promise.all(
      Array.from({ length: Math.max(1, deps.chatConcurrency ?? 8) }, async () => {
        for (let chat = pending.shift(); chat !== undefined && !stopped; chat = pending.shift()) {
          if (ctx.shouldStop()) stopped = true;
          else await pollChat(chat, ctx, deps);
        }
      }),
    );
    if (stopped) return 'deadline';
    const newest = page.items.at(-1)?.updated_at;
    if (newest) ctx.setLagSeconds(Math.max(0, Math.round((deps.now() - Date.parse(newest)) / 1000)));
    if (page.lastId && page.lastId !== cursor) {
      cursor = page.lastId;
      await ctx.saveCheckpoint({ ...ctx.checkpoint, cursor });
    }
    if (!page.hasMore) return 'completed';
  }
}

/**
 * Reads a chat's messages after its checkpoint, enqueues their files, then moves its checkpoint.
 * Also the step of `archiver backfill` (cli/), so that a chat read by either is not read again by the other.
 */
export async function pollChat(chat: ChatSummary, ctx: RunContext, deps: ChatPollerDeps): Promise<void> {
  const seen = await deps.store.getChatCheckpoint(chat.id);
  const updatedAt = chat.updated_at ?? null;
  // Unchanged since its last reading: nothing new can be in it (a new message bumps updated_at).
  if (seen && updatedAt !== null && seen.updatedAt === updatedAt) return;
  let after = seen?.lastMessageId ?? null;
  let deletionRecorded = false;
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
        return;
      }
      throw asCursorRejection(err, after);
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
    const bodies = jobsOf(chat.id, page.items, { stampAppearance: deps.stampAppearance === true }).map((job) =>
      serializeJob(job),
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
    if (done) return;
    if (ctx.shouldStop()) return;
  }
}

/**
 * One job per generated and uploaded file of the messages (a file listed twice is sent once). Each
 * carries the chat id and every metadata field, so the worker skips the metadata request. The
 * message lists no `created_at` for generated files: the job says null rather than guess.
 */
export function jobsOf(
  chatId: string,
  messages: readonly ChatMessage[],
  opts: { stampAppearance?: boolean } = {},
): IngestJob[] {
  const jobs = new Map<string, IngestJob>();
  for (const m of messages) {
    // A file listed twice keeps the time of the message read last; both are within one page.
    const appearedAt = opts.stampAppearance ? validTimestamp(m.createdAt) : null;
    const stamp = appearedAt === null ? {} : { appearedAt };
    for (const f of m.generated) {
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
    for (const f of m.uploaded) {
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
  return [...jobs.values()];
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

function validTimestamp(value: string | null | undefined): string | null {
  if (!value) return null;
  return CarriedMetadataSchema.shape.created_at.safeParse(value).success ? value : null;
}
