import { serializeJob } from '../contracts/job.js';
import { jobsOf } from '../discovery/chat-poller.js';
import { UpstreamHttpError } from '../platform/errors.js';
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
}

/**
 * "Archive this chat now": reads every message of the chat from the start, with discovery's listing
 * client, and turns its files into ingest jobs with discovery's `jobsOf` (chat id and the metadata
 * the message lists carried, so a worker needs no metadata request), each with the caller's reason.
 * Jobs go page by page; a file listed on two pages is sent once. Unlike the chat poller it keeps no
 * checkpoint: the caller asked for the whole chat, and ingest skips files already archived.
 */
export function createChatFanOut(deps: ChatFanOutDeps): ChatFanOut {
  return {
    async enqueueChatFiles(chatId, reason, signal) {
      const sent = new Set<string>();
      let after: string | undefined;
      for (;;) {
        let page;
        try {
          page = await deps.upstream.listChatMessages(chatId, { afterId: after, limit: deps.messagePageSize }, signal);
        } catch (err) {
          // 404: never existed or hard-deleted. 400 on the first page: upstream refuses the id
          // itself (it passed our format check). Either way there is nothing to enqueue; any other
          // failure, or a 400 on a later page (a cursor), is ours to retry.
          if (err instanceof UpstreamHttpError && (err.status === 404 || (err.status === 400 && after === undefined))) {
            deps.log.info('webhook chat not found upstream', { chatId, status: err.status, requestId: err.requestId });
            return { found: false };
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
        const jobs = jobsOf(chatId, page.items, { provenance: page.chatProvenance }).filter(
          (job) => !sent.has(job.fileId),
        );
        if (jobs.length > 0) {
          await deps.jobs.send(
            jobs.map((job) => serializeJob({ ...job, ...(reason === undefined ? {} : { reason }) })),
            signal,
          );
          for (const job of jobs) sent.add(job.fileId);
        }
        const last = page.lastId ?? page.items.at(-1)?.id;
        if (!page.hasMore || last === undefined || last === after) return { found: true, jobs: sent.size };
        after = last;
      }
    },
  };
}
