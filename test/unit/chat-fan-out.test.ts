import { describe, expect, it } from 'vitest';
import { runChatPoller } from '../../shared/discovery/chat-poller.js';
import { createChatFanOut } from '../../shared/webhook/chat-fan-out.js';
import {
  FakeListing,
  MemoryDeletions,
  MemoryDiscoveryStore,
  MemoryJobSender,
  messageWithFile,
  noCounters,
  silentLog,
} from '../support/memory-discovery.js';

const CHAT = 'claude_chat_long';

describe('webhook chat fan-out: resumable work', () => {
  it(
    'leaves a chat cut short by the deadline checkpointed at its ' +
      'last enqueued page; the chat poller goes on from there, not ' +
      'page 1',
    async () => {
      const listing = new FakeListing();
      listing.addChat(CHAT, [
        messageWithFile('claude_chat_msg_1', 'claude_file_1'),
        messageWithFile('claude_chat_msg_2', 'claude_file_2'),
        messageWithFile('claude_chat_msg_3', 'claude_file_3'),
      ]);
      const store = new MemoryDiscoveryStore();
      const jobs = new MemoryJobSender();
      const deadline = new AbortController();
      // The request's deadline comes while the third page is read.
      listing.onMessages = (_chat, after, signal) => {
        if (after === 'claude_chat_msg_2') {
          deadline.abort(new Error('deadline'));
          signal.throwIfAborted();
        }
      };
      const fanOut = createChatFanOut({
        upstream: listing,
        jobs,
        log: silentLog,
        messagePageSize: 1,
        requests: store,
        now: () => 1_000,
      });

      const answer = await fanOut.enqueueChatFiles(CHAT, 'hold 7', deadline.signal, 'wh_1');

      expect(answer).toEqual({ found: true, jobs: 2, queued: true });
      expect(await store.listChatRequests(10)).toEqual([
        expect.objectContaining({
          webhookId: 'wh_1',
          chatId: CHAT,
          after: 'claude_chat_msg_2',
          jobs: 2,
          reason: 'hold 7',
        }),
      ]);
      listing.onMessages = undefined;
      listing.requests.length = 0;

      const run = await runChatPoller(
        {
          upstream: listing,
          store,
          requests: store,
          jobs,
          deletions: new MemoryDeletions(),
          log: silentLog,
          counters: noCounters,
          now: () => 2_000,
          pageSize: 10,
          messagePageSize: 1,
        },
        { deadlineMs: 600_000, stopMarginMs: 0, leaseMs: 600_000 },
      );

      expect(run.kind === 'ran' && run.ledger).toMatchObject({ ending: 'completed', retriesPending: 0 });
      // The request went on from the third message; then the ordinary walk read the chat itself.
      expect(listing.requests.filter((r) => r.kind === 'messages')[0]).toEqual({
        kind: 'messages',
        chatId: CHAT,
        afterId: 'claude_chat_msg_2',
      });
      expect(
        jobs
          .jobs()
          .filter((j) => j.reason === 'hold 7')
          .map((j) => j.fileId),
      ).toEqual(['claude_file_1', 'claude_file_2', 'claude_file_3']);
      expect(await store.listChatRequests(10)).toEqual([]);
    },
  );

  it('without a request store (the CLI, whose operator is waiting) a failure still throws', async () => {
    const listing = new FakeListing();
    listing.addChat(CHAT, [messageWithFile('claude_chat_msg_1', 'claude_file_1')]);
    listing.failMessages(CHAT, new Error('boom'));
    const fanOut = createChatFanOut({
      upstream: listing,
      jobs: new MemoryJobSender(),
      log: silentLog,
      messagePageSize: 1,
    });

    await expect(fanOut.enqueueChatFiles(CHAT, undefined, new AbortController().signal)).rejects.toThrow('boom');
  });
});
