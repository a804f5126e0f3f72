import { createHash, randomUUID } from 'node:crypto';
import type { BackfillCheckpoint, BackfillQuery } from '../contracts/backfill-checkpoint.js';
import { isTransientFailure } from '../ingest/failure-decision.js';
import { ArchiverError, UpstreamHttpError } from '../platform/errors.js';
import type { ChatSummary } from '../upstream/listing-schemas.js';
import { describeForRecord } from '../platform/errors.js';
import { backoffMs, RETRY_LIST_BACKOFF } from '../platform/backoff.js';
import { isChatsOwnFailure } from './chat-poller.js';
import { readChat } from './read-chat.js';
import { BudgetExhaustedError } from './rate-budget.js';
import type { ChatPollerDeps } from './chat-poller.js';

/** Where backfills keep their checkpoints; one lease per set of options, so two runs never interleave. */
export interface BackfillStore {
  /** Takes the lease of `key`; the stored checkpoint comes back with it (undefined when none). */
  acquire(
    key: string,
    owner: string,
    nowMs: number,
    leaseMs: number,
  ): Promise<
    { kind: 'acquired'; checkpoint: BackfillCheckpoint | undefined } | { kind: 'held'; leaseExpiresAtMs: number }
  >;
  /** Writes the checkpoint and extends the lease; false when another run has taken the lease since. */
  save(checkpoint: BackfillCheckpoint, owner: string, nowMs: number, leaseMs: number): Promise<boolean>;
  release(key: string, owner: string): Promise<void>;
}

export interface BackfillDeps extends ChatPollerDeps {
  backfills: BackfillStore;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface BackfillOptions {
  /** Start a new walk even if one with these options is unfinished. */
  restart: boolean;
  signal: AbortSignal;
  leaseMs: number;
  /** Attempts of one step (a listing page, a chat) on a retryable failure before the backfill stops. */
  maxAttempts: number;
  onProgress(checkpoint: BackfillCheckpoint, event: 'resumed' | 'started' | 'chat' | 'page'): void;
}

export type BackfillResult = { ending: 'completed' | 'interrupted'; checkpoint: BackfillCheckpoint; resumed: boolean };

/** Another run holds this backfill's lease. */
export class BackfillHeldError extends ArchiverError {
  constructor(readonly leaseExpiresAtMs: number) {
    super('another backfill with the same options is running');
  }
}

/** The checkpoint's key: a hash of the options, so the same command line resumes the same walk. */
export function backfillKey(query: BackfillQuery): string {
  const canonical = JSON.stringify({ since: query.since, until: query.until, userIds: [...query.userIds].sort() });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/**
 * `archiver backfill`: walks the chats created in [since, until) (for some users, or all) ordered by
 * `created_at`, and reads each one with the chat poller's own step (pollChat): messages after the
 * chat's checkpoint, one job per file with its metadata, the chat's checkpoint moved once the queue
 * accepted them. Every upstream request draws from the shared budget through the listing client's
 * gate. Progress is checkpointed after every chat, so an interrupted backfill resumes where it
 * stopped; a chat the poller already read (or an earlier backfill did) costs no upstream request.
 * A chat that still fails after its retries with a failure of its own (403, a page over the cap) is
 * put on the chat poller's retry list and named in the checkpoint, and the walk goes on; a chat
 * stopped between its pages (Ctrl-C) is not counted as handled, so a resumed walk reads it again.
 */
export async function runBackfill(
  deps: BackfillDeps,
  query: BackfillQuery,
  opts: BackfillOptions,
): Promise<BackfillResult> {
  const key = backfillKey(query);
  const owner = randomUUID();
  const taken = await deps.backfills.acquire(key, owner, deps.now(), opts.leaseMs);
  if (taken.kind === 'held') throw new BackfillHeldError(taken.leaseExpiresAtMs);
  const stored = taken.checkpoint;
  const resumed = stored !== undefined && stored.completedAt === null && !opts.restart;
  const nowIso = new Date(deps.now()).toISOString();
  let cp: BackfillCheckpoint = resumed
    ? stored
    : {
        key,
        // An open end is fixed now, so a resumed walk keeps the same bounds.
        query: { ...query, userIds: [...query.userIds].sort(), until: query.until ?? nowIso },
        cursor: null,
        doneInPage: [],
        firstChatCreatedAt: null,
        lastChatCreatedAt: null,
        chatsScanned: 0,
        filesEnqueued: 0,
        startedAt: nowIso,
        updatedAt: nowIso,
        completedAt: null,
      };
  const save = async (next: BackfillCheckpoint): Promise<void> => {
    const stamped = { ...next, updatedAt: new Date(deps.now()).toISOString() };
    if (!(await deps.backfills.save(stamped, owner, deps.now(), opts.leaseMs))) throw new BackfillHeldError(deps.now());
    cp = stamped;
  };
  try {
    await save(cp);
    opts.onProgress(cp, resumed ? 'resumed' : 'started');
    for (;;) {
      if (opts.signal.aborted) return { ending: 'interrupted', checkpoint: cp, resumed };
      const page = await withRetries(deps, opts, () =>
        deps.upstream.searchChats(
          {
            afterId: cp.cursor ?? undefined,
            createdAtGte: cp.query.since ?? undefined,
            createdAtLt: cp.query.until ?? undefined,
            userIds: cp.query.userIds,
            limit: deps.pageSize,
          },
          opts.signal,
        ),
      );
      for (const chat of page.items) {
        if (cp.doneInPage.includes(chat.id)) continue;
        if (opts.signal.aborted) return { ending: 'interrupted', checkpoint: cp, resumed };
        let read: { ending: 'done' | 'stopped'; jobs: number };
        try {
          read = await withRetries(deps, opts, () => readOneChat(chat, deps, opts.signal));
        } catch (err) {
          if (opts.signal.aborted || !isChatsOwnFailure(err)) throw err;
          await putOnRetryList(chat, err, key, deps);
          read = { ending: 'done', jobs: 0 };
          cp = { ...cp, chatsFailed: [...(cp.chatsFailed ?? []), chat.id] };
        }
        // Stopped between the chat's pages: read in part, so not handled; a resumed walk reads it again.
        if (read.ending === 'stopped') return { ending: 'interrupted', checkpoint: cp, resumed };
        const created = chat.created_at ?? null;
        await save({
          ...cp,
          doneInPage: [...cp.doneInPage, chat.id],
          chatsScanned: cp.chatsScanned + 1,
          filesEnqueued: cp.filesEnqueued + read.jobs,
          firstChatCreatedAt: cp.firstChatCreatedAt ?? created,
          lastChatCreatedAt: created ?? cp.lastChatCreatedAt,
        });
        opts.onProgress(cp, 'chat');
      }
      const done = !page.hasMore || page.lastId === null;
      await save({
        ...cp,
        cursor: page.lastId ?? cp.cursor,
        doneInPage: [],
        ...(done ? { completedAt: new Date(deps.now()).toISOString() } : {}),
      });
      opts.onProgress(cp, 'page');
      if (done) return { ending: 'completed', checkpoint: cp, resumed };
    }
  } catch (err) {
    // Ctrl-C mid-request: everything up to the last chat handled is checkpointed.
    if (opts.signal.aborted) return { ending: 'interrupted', checkpoint: cp, resumed };
    throw err;
  } finally {
    await deps.backfills.release(key, owner).catch(() => undefined);
  }
}

/** One chat through the poller's step; resolves with how it ended and the number of jobs it enqueued. */
async function readOneChat(
  chat: ChatSummary,
  deps: BackfillDeps,
  signal: AbortSignal,
): Promise<{ ending: 'done' | 'stopped'; jobs: number }> {
  let jobs = 0;
  const ending = await readChat(
    chat,
    {
      signal,
      shouldStop: () => signal.aborted,
      page: () => undefined,
      jobsEnqueued: (n) => {
        jobs += n;
      },
      unitRestarted: (chatId) => deps.log.warn('backfill read a chat again from its first message', { chatId }),
    },
    deps,
  );
  return { ending, jobs };
}

/** A chat the backfill could not read goes to the chat poller's retry list, which its runs work through. */
async function putOnRetryList(chat: ChatSummary, err: unknown, key: string, deps: BackfillDeps): Promise<void> {
  const nowMs = deps.now();
  const requestId = err instanceof UpstreamHttpError ? (err.requestId ?? null) : null;
  deps.log.error('backfill could not read a chat; it goes to the retry list and the walk moves on', {
    chatId: chat.id,
    requestId,
    error: describeForRecord(err),
  });
  await deps.store.putRetry('chats', {
    unitId: chat.id,
    updatedAt: chat.updated_at ?? null,
    attempts: 1,
    nextAttemptAtMs: nowMs + backoffMs(RETRY_LIST_BACKOFF, 0),
    firstFailedAt: new Date(nowMs).toISOString(),
    lastError: describeForRecord(err),
    lastRequestId: requestId,
    lastRunId: `backfill:${key}`,
  });
}

/** Retries a step on transient failures, waiting as told (retry-after, the next budget window) or backing off. */
async function withRetries<T>(deps: BackfillDeps, opts: BackfillOptions, step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (opts.signal.aborted || attempt >= opts.maxAttempts || !isTransientFailure(err)) throw err;
      const told =
        err instanceof UpstreamHttpError || err instanceof BudgetExhaustedError ? err.retryAfterMs : undefined;
      const wait = told ?? Math.min(30_000, 1_000 * 2 ** (attempt - 1));
      deps.log.warn('backfill step failed; retrying', {
        attempt,
        waitMs: wait,
        error: err instanceof Error ? err.message : String(err),
      });
      await deps.sleep(wait, opts.signal);
    }
  }
}
