/**
 * `archiver enqueue <chatId>`: every file of the chat, now. Reads all of the chat's messages with
 * discovery's listing client (behind the shared budget) and turns them into jobs with discovery's
 * `jobsOf` (chat id and carried metadata, so the worker needs no metadata request). Unlike the
 * poller it ignores the chat's checkpoint: the operator asked for the whole chat, and ingest skips
 * files already archived.
 */
import { serializeJob } from '../shared/contracts/job.js';
import { jobsOf } from '../shared/discovery/chat-poller.js';
import type { JobSender } from '../shared/discovery/ports.js';
import { UpstreamHttpError } from '../shared/platform/errors.js';
import type { ListingClient } from '../shared/upstream/listing-client.js';

export type ChatFanOutResult = { found: true; jobs: number; fileIds: string[] } | { found: false };

export async function enqueueChatFiles(
  deps: { upstream: Pick<ListingClient, 'listChatMessages'>; jobs: JobSender; messagePageSize: number },
  chatId: string,
  signal: AbortSignal,
): Promise<ChatFanOutResult> {
  const sent = new Set<string>();
  let after: string | undefined;
  for (;;) {
    let page;
    try {
      page = await deps.upstream.listChatMessages(chatId, { afterId: after, limit: deps.messagePageSize }, signal);
    } catch (err) {
      if (err instanceof UpstreamHttpError && err.status === 404) return { found: false };
      throw err;
    }
    const jobs = jobsOf(chatId, page.items).filter((job) => !sent.has(job.fileId));
    if (jobs.length > 0) {
      await deps.jobs.send(jobs.map((job) => serializeJob(job)), signal);
      for (const job of jobs) sent.add(job.fileId);
    }
    const last = page.lastId ?? page.items.at(-1)?.id;
    if (!page.hasMore || last === undefined || last === after) return { found: true, jobs: sent.size, fileIds: [...sent] };
    after = last;
  }
}
