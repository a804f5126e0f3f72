import { readWholeChat } from '../discovery/read-chat.js';
import type { ChatRequestStore } from '../discovery/ports.js';
import { describeForRecord, UpstreamHttpError } from '../platform/errors.js';
import type { Log } from '../platform/telemetry.js';
import type { ListingClient } from '../upstream/listing-client.js';
import type { ChatFanOut, JobSender } from './ports.js';

export interface ChatFanOutDeps {
  /** Discovery's listing client (its gate, when given one, is the organization's shared budget). */
  upstream: Pick<ListingClient, 'listChatMessages'>;
  jobs: JobSender;
  log: Log;
  /** Messages per page (upstream allows up to 1000). */
  messagePageSize: number;
  /**
   * Where a chat whose reading could not finish now is left for the chat poller to finish (the
   * webhook's). Without it (`archiver enqueue --chat`, where the operator is waiting), a failure throws.
   */
  requests?: ChatRequestStore | undefined;
  now?: () => number;
}

/**
 * "Archive this chat now", for the webhook and `archiver enqueue --chat`: reads the whole chat with
 * discovery's readWholeChat (shared/discovery/read-chat.ts). With a request store, a chat that cannot
 * be read to its end now (upstream throttles or fails, the budget has no room, the caller's deadline
 * comes) is not an error: it is left as a request checkpointed at the last page whose jobs the queue
 * accepted, the chat poller's next runs finish it (with the same reason), and the answer says
 * `queued`. So a chat of any size is answered 202 and never read from page 1 again by a retry.
 */
export function createChatFanOut(deps: ChatFanOutDeps): ChatFanOut {
  const now = deps.now ?? Date.now;
  return {
    async enqueueChatFiles(chatId, reason, signal, webhookId) {
      let reached = { after: null as string | null, jobs: 0 };
      let failure: unknown;
      try {
        const result = await readWholeChat(chatId, reason, reached, deps, signal, {
          onPage: async (after, jobs) => {
            reached = { after, jobs };
          },
        });
        if (result.kind === 'not_found') return { found: false };
        if (result.kind === 'done') return { found: true, jobs: result.jobs };
        reached = { after: result.after, jobs: result.jobs };
      } catch (err) {
        if (!deps.requests || webhookId === undefined) throw err;
        failure = err;
      }
      // Stopped or failed part-way: leave the rest for the chat poller, checkpointed where it got to.
      const err = failure;
      if (!deps.requests || webhookId === undefined) throw err ?? new Error('chat reading stopped');
      const nowMs = now();
      await deps.requests.putChatRequest({
        webhookId,
        chatId,
        ...(reason === undefined ? {} : { reason }),
        after: reached.after,
        jobs: reached.jobs,
        requestedAt: new Date(nowMs).toISOString(),
        attempts: 0,
        nextAttemptAtMs: nowMs,
        lastError: err === undefined ? null : describeForRecord(err),
        lastRequestId: err instanceof UpstreamHttpError ? (err.requestId ?? null) : null,
      });
      deps.log.warn('chat not read to its end now; the chat poller finishes it', {
        webhookId,
        chatId,
        after: reached.after,
        jobs: reached.jobs,
        error: err === undefined ? 'stopped' : describeForRecord(err),
      });
      return { found: true, jobs: reached.jobs, queued: true };
    },
  };
}
