import { describe, expect, it } from 'vitest';
import { runBackfill } from '../../shared/discovery/backfill.js';
import type { BackfillDeps, BackfillOptions } from '../../shared/discovery/backfill.js';
import { UpstreamAuthError } from '../../shared/platform/errors.js';
import {
  FakeListing,
  MemoryBackfillStore,
  MemoryDeletions,
  MemoryDiscoveryStore,
  MemoryJobSender,
  messageWithFile,
  noCounters,
  silentLog,
} from '../support/memory-discovery.js';

function harness() {
  const listing = new FakeListing();
  const store = new MemoryDiscoveryStore();
  const jobs = new MemoryJobSender();
  const backfills = new MemoryBackfillStore();
  const deps: BackfillDeps = {
    upstream: listing,
    store,
    jobs,
    deletions: new MemoryDeletions(),
    log: silentLog,
    counters: noCounters,
    now: () => Date.parse('2026-01-01T00:00:00Z'),
    pageSize: 10,
    messagePageSize: 1,
    backfills,
    sleep: async () => undefined,
  };
  const query = { since: null, until: '2026-01-01T00:00:00Z', userIds: [] };
  const options = (signal: AbortSignal): BackfillOptions => ({
    restart: false,
    signal,
    leaseMs: 60_000,
    maxAttempts: 3,
    onProgress: () => undefined,
  });
  return { listing, store, jobs, deps, query, options };
}

describe('archiver backfill on in-memory ports', () => {
  it(
    'does not count a chat stopped between its pages (Ctrl-C) as ' + 'handled: the resumed walk reads the rest of it',
    async () => {
      const h = harness();
      h.listing.addChat('claude_chat_long', [
        messageWithFile('claude_chat_msg_1', 'claude_file_1'),
        messageWithFile('claude_chat_msg_2', 'claude_file_2'),
      ]);
      const ctrlC = new AbortController();
      // Ctrl-C arrives once the chat's first page is enqueued and checkpointed, before its second page.
      const putChatCheckpoint = h.store.putChatCheckpoint.bind(h.store);
      h.store.putChatCheckpoint = async (chatId, cp) => {
        await putChatCheckpoint(chatId, cp);
        ctrlC.abort(new Error('SIGINT'));
      };

      const first = await runBackfill(h.deps, h.query, h.options(ctrlC.signal));

      expect(first.ending).toBe('interrupted');
      expect(first.checkpoint).toMatchObject({ doneInPage: [], chatsScanned: 0 });
      h.store.putChatCheckpoint = putChatCheckpoint;

      const resumed = await runBackfill(h.deps, h.query, h.options(new AbortController().signal));

      expect(resumed).toMatchObject({ ending: 'completed', resumed: true, checkpoint: { chatsScanned: 1 } });
      expect(h.jobs.jobs().map((j) => j.fileId)).toEqual(['claude_file_1', 'claude_file_2']);
    },
  );

  it('puts a chat whose messages answer 403 on the chat poller’s retry list and walks on', async () => {
    const h = harness();
    h.listing.addChat('claude_chat_a', [messageWithFile('claude_chat_msg_a', 'claude_file_a')]);
    h.listing.addChat('claude_chat_bad', [messageWithFile('claude_chat_msg_b', 'claude_file_b')]);
    h.listing.addChat('claude_chat_c', [messageWithFile('claude_chat_msg_c', 'claude_file_c')]);
    h.listing.failMessages(
      'claude_chat_bad',
      new UpstreamAuthError(403, 'permission_error', 'req_forbidden', { retryable: false }),
    );

    const result = await runBackfill(h.deps, h.query, h.options(new AbortController().signal));

    expect(result).toMatchObject({
      ending: 'completed',
      checkpoint: { chatsScanned: 3, chatsFailed: ['claude_chat_bad'] },
    });
    expect(h.jobs.jobs().map((j) => j.fileId)).toEqual(['claude_file_a', 'claude_file_c']);
    expect(h.store.retryList('chats')).toEqual([
      expect.objectContaining({ unitId: 'claude_chat_bad', lastRequestId: 'req_forbidden', attempts: 1 }),
    ]);
  });
});
