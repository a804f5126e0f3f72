import {
  EnqueueFailedError,
  UpstreamAuthError,
  UpstreamContractError,
  UpstreamHttpError,
  UpstreamRateLimitedError,
  UpstreamTransportError,
  describeForRecord,
} from '../platform/errors.js';
import { backoffMs, RETRY_LIST_BACKOFF } from '../platform/backoff.js';
import type { ChatSummary } from '../upstream/listing-schemas.js';
import { asCursorRejection, runPoller } from './poller-run.js';
import type { RunContext, RunOptions, RunOutcome } from './poller-run.js';
import type { ChatRequest, ChatRequestStore, DeletionRecorder, PollerDeps, RetryEntry } from './ports.js';
import { readChat, readWholeChat } from './read-chat.js';
import type { ChatReadEnding } from './read-chat.js';

export { jobsOf, withProvenance } from './read-chat.js';

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
  /** Retry-list entries read per run (default 100). */
  retryBatch?: number;
  /** Whole-chat reads the webhook could not finish; the poller finishes them first. */
  requests?: ChatRequestStore | undefined;
  random?: () => number;
}

/**
 * The chat poller: walks chats org-wide ordered by `updated_at` from the checkpointed `after_id`,
 * and for every new or changed chat reads the messages after the last one seen in that chat. Each
 * generated and uploaded file becomes one ingest job carrying the chat id and the metadata the
 * message lists, so the worker needs no metadata request. A chat's checkpoint moves only after its
 * jobs were accepted by the queue, and the listing's cursor only after every chat of the page was
 * read or put on the retry list: a crash re-reads, never skips (ingest is idempotent, so a re-read
 * costs duplicates only).
 *
 * One chat never stops the others: a chat that fails (403 on its messages, a page over the size cap,
 * an answer that does not parse) is recorded on the run's ledger record with upstream's request id and
 * put on the retry list, which every later run works through first, with backoff. Failures that are
 * not the chat's (the budget, a 429, the queue, the store, the lease) end the run as before.
 */
export function runChatPoller(deps: ChatPollerDeps, opts: RunOptions): Promise<RunOutcome> {
  return runPoller('chats', deps, opts, (ctx) => pollChats(ctx, deps));
}

async function pollChats(ctx: RunContext, deps: ChatPollerDeps): Promise<'completed' | 'deadline'> {
  const retries = new Map((await deps.store.listRetries('chats', 1_000)).map((r) => [r.unitId, r]));
  let requestsOpen = 0;
  const settle = async (chat: ChatSummary): Promise<ChatReadEnding> => {
    const ending = await readIsolated(chat, ctx, deps, retries);
    return ending;
  };
  try {
    // Chats someone asked for first (the webhook's unfinished reads), then the retry list.
    if (deps.requests) {
      const requests = await finishRequests(ctx, deps, deps.requests);
      requestsOpen = requests.open;
      if (requests.stopped) return 'deadline';
    }
    // The retry list: entries whose wait is over, oldest failures first.
    const due = [...retries.values()]
      .filter((r) => r.nextAttemptAtMs <= deps.now())
      .sort((a, b) => a.firstFailedAt.localeCompare(b.firstFailedAt))
      .slice(0, deps.retryBatch ?? 100);
    for (const entry of due) {
      if (ctx.shouldStop()) return 'deadline';
      if ((await settle({ id: entry.unitId, updated_at: entry.updatedAt })) === 'stopped') return 'deadline';
    }
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
            // A chat stopped between its pages is read in part: the cursor must not pass it.
            if (ctx.shouldStop() || (await settle(chat)) === 'stopped') stopped = true;
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
  } finally {
    ctx.setRetriesPending(retries.size + requestsOpen);
  }
}

/**
 * Finishes the whole-chat reads the webhook left (shared/webhook/chat-fan-out.ts): each from where
 * it stopped, with its reason, its checkpoint moved after every page the queue accepted. A read that
 * fails with the chat's own failure waits (backoff) and is recorded as the run's unit failure.
 */
async function finishRequests(
  ctx: RunContext,
  deps: ChatPollerDeps,
  store: ChatRequestStore,
): Promise<{ open: number; stopped: boolean }> {
  const all = await store.listChatRequests(100);
  let open = all.length;
  for (const request of all) {
    if (request.nextAttemptAtMs > deps.now()) continue;
    if (ctx.shouldStop()) return { open, stopped: true };
    let reached: ChatRequest = request;
    const save = async (after: string | null, jobs: number) => {
      ctx.jobsEnqueued(jobs - reached.jobs);
      reached = { ...reached, after, jobs };
      await store.putChatRequest(reached);
    };
    try {
      const result = await readWholeChat(
        request.chatId,
        request.reason,
        { after: request.after, jobs: request.jobs },
        deps,
        ctx.signal,
        { shouldStop: () => ctx.shouldStop(), onPage: save },
      );
      if (result.kind === 'stopped') return { open, stopped: true };
      if (result.kind === 'done') ctx.jobsEnqueued(result.jobs - reached.jobs);
      await store.deleteChatRequest(request.webhookId, request.chatId);
      open -= 1;
    } catch (err) {
      if (ctx.signal.aborted) return { open, stopped: true };
      if (!isChatsOwnFailure(err)) throw err;
      ctx.unitFailed(request.chatId, err);
      const nowMs = deps.now();
      await store.putChatRequest({
        ...reached,
        attempts: reached.attempts + 1,
        nextAttemptAtMs: nowMs + backoffMs(RETRY_LIST_BACKOFF, reached.attempts, deps.random),
        lastError: describeForRecord(err),
        lastRequestId: err instanceof UpstreamHttpError ? (err.requestId ?? null) : null,
      });
    }
  }
  return { open, stopped: false };
}

/**
 * Reads one chat; a failure that is the chat's own goes to the retry list (and the ledger) instead of
 * ending the run. A chat read in full comes off the retry list.
 */
async function readIsolated(
  chat: ChatSummary,
  ctx: RunContext,
  deps: ChatPollerDeps,
  retries: Map<string, RetryEntry>,
): Promise<ChatReadEnding> {
  try {
    const ending = await readChat(chat, ctx, deps);
    if (ending === 'done' && retries.has(chat.id)) {
      await deps.store.deleteRetry('chats', chat.id);
      retries.delete(chat.id);
    }
    return ending;
  } catch (err) {
    // Stopped by the run's signal mid-request: read in part, as above.
    if (ctx.signal.aborted) return 'stopped';
    if (!isChatsOwnFailure(err)) throw err;
    ctx.unitFailed(chat.id, err);
    const entry = nextRetry(retries.get(chat.id), chat, err, ctx.runId, deps);
    await deps.store.putRetry('chats', entry);
    retries.set(chat.id, entry);
    return 'done';
  }
}

/**
 * What one chat can fail with without saying anything about the others: an upstream answer for this
 * chat (a status other than 429, a body over the cap or off the documented shape) or a broken
 * connection while reading it. The budget, a 429, the queue and the store are every chat's: the run
 * ends and the cursor stays.
 */
export function isChatsOwnFailure(err: unknown): boolean {
  // 401: upstream refuses our key, for every chat alike.
  if (err instanceof UpstreamRateLimitedError || err instanceof EnqueueFailedError) return false;
  if (err instanceof UpstreamAuthError && err.status === 401) return false;
  return (
    err instanceof UpstreamHttpError || err instanceof UpstreamContractError || err instanceof UpstreamTransportError
  );
}

function nextRetry(
  previous: RetryEntry | undefined,
  chat: ChatSummary,
  err: unknown,
  runId: string,
  deps: ChatPollerDeps,
): RetryEntry {
  const attempts = (previous?.attempts ?? 0) + 1;
  const nowMs = deps.now();
  return {
    unitId: chat.id,
    // Keep the older `updated_at`: a retry must read at least what the first failure missed.
    updatedAt: previous?.updatedAt ?? chat.updated_at ?? null,
    attempts,
    nextAttemptAtMs: nowMs + backoffMs(RETRY_LIST_BACKOFF, attempts - 1, deps.random),
    firstFailedAt: previous?.firstFailedAt ?? new Date(nowMs).toISOString(),
    lastError: describeForRecord(err),
    lastRequestId: err instanceof UpstreamHttpError ? (err.requestId ?? null) : null,
    lastRunId: runId,
  };
}
