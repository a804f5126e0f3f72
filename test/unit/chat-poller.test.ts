import { describe, expect, it } from 'vitest';
import { runChatPoller } from '../../shared/discovery/chat-poller.js';
import type { ChatPollerDeps } from '../../shared/discovery/chat-poller.js';
import type { RunOptions } from '../../shared/discovery/poller-run.js';
import { BudgetExhaustedError, UpstreamAuthError, UpstreamContractError } from '../../shared/platform/errors.js';
import {
  FakeListing,
  MemoryDeletions,
  MemoryDiscoveryStore,
  MemoryJobSender,
  messageWithFile,
  noCounters,
  silentLog,
} from '../support/memory-discovery.js';

/** A poller on in-memory ports with a clock the test moves. */
function harness() {
  const clock = { ms: Date.parse('2026-01-01T00:00:00Z') };
  const listing = new FakeListing();
  const store = new MemoryDiscoveryStore();
  const jobs = new MemoryJobSender();
  const deps: ChatPollerDeps = {
    upstream: listing,
    store,
    jobs,
    deletions: new MemoryDeletions(),
    log: silentLog,
    counters: noCounters,
    now: () => clock.ms,
    pageSize: 10,
    messagePageSize: 1,
    chatConcurrency: 1,
    random: () => 0,
  };
  const options = (): RunOptions => ({ deadlineMs: clock.ms + 600_000, stopMarginMs: 20_000, leaseMs: 900_000 });
  const run = async () => {
    const outcome = await runChatPoller(deps, options());
    if (outcome.kind !== 'ran') throw new Error('lease held');
    return outcome.ledger;
  };
  return { clock, listing, store, jobs, deps, run };
}

const forbidden = () => new UpstreamAuthError(403, 'permission_error', 'req_forbidden_1', { retryable: false });

describe('chat poller: one chat never stops the others (in-memory ports)', () => {
  it(
    'reads every other chat, moves the cursor past a chat whose messages ' +
      'answer 403, and records it with its request id',
    async () => {
      const h = harness();
      h.listing.addChat('claude_chat_a', [messageWithFile('claude_chat_msg_a1', 'claude_file_a1')]);
      h.listing.addChat('claude_chat_bad', [messageWithFile('claude_chat_msg_b1', 'claude_file_b1')]);
      h.listing.addChat('claude_chat_c', [messageWithFile('claude_chat_msg_c1', 'claude_file_c1')]);
      h.listing.failMessages('claude_chat_bad', forbidden());

      const ledger = await h.run();

      expect(ledger).toMatchObject({
        ending: 'completed',
        cursorEnd: 'claude_chat_c',
        unitFailureCount: 1,
        unitFailures: [{ id: 'claude_chat_bad', requestId: 'req_forbidden_1' }],
        retriesPending: 1,
      });
      expect(h.jobs.jobs().map((j) => j.fileId)).toEqual(['claude_file_a1', 'claude_file_c1']);
      expect(h.store.retryList('chats')).toEqual([
        expect.objectContaining({
          unitId: 'claude_chat_bad',
          attempts: 1,
          lastRequestId: 'req_forbidden_1',
          nextAttemptAtMs: h.clock.ms + 60_000,
        }),
      ]);
    },
  );

  it('works the retry list in later runs with backoff, and takes a chat off once it is read', async () => {
    const h = harness();
    h.listing.addChat('claude_chat_bad', [messageWithFile('claude_chat_msg_b1', 'claude_file_b1')]);
    h.listing.failMessages('claude_chat_bad', forbidden(), forbidden());
    await h.run();

    // Before its wait is over the entry is left alone (the chat is not listed again: unchanged).
    h.clock.ms += 30_000;
    expect(await h.run()).toMatchObject({ ending: 'completed', retriesPending: 1, unitFailureCount: 0 });
    // Due: read again, fails again, waits twice as long.
    h.clock.ms += 30_000;
    expect(await h.run()).toMatchObject({ unitFailureCount: 1, retriesPending: 1 });
    expect(h.store.retryList('chats')[0]).toMatchObject({ attempts: 2, nextAttemptAtMs: h.clock.ms + 120_000 });
    h.clock.ms += 120_000;

    const ledger = await h.run();

    expect(ledger).toMatchObject({ ending: 'completed', retriesPending: 0, unitFailureCount: 0 });
    expect(h.store.retryList('chats')).toEqual([]);
    expect(h.jobs.jobs().map((j) => j.fileId)).toEqual(['claude_file_b1']);
  });

  it('treats a message page over the size cap as that chat’s failure', async () => {
    const h = harness();
    h.listing.addChat('claude_chat_big', [messageWithFile('claude_chat_msg_1', 'claude_file_1')]);
    h.listing.addChat('claude_chat_ok', [messageWithFile('claude_chat_msg_2', 'claude_file_2')]);
    h.listing.failMessages('claude_chat_big', new UpstreamContractError('listing is larger than 33554432 bytes'));

    const ledger = await h.run();

    expect(ledger).toMatchObject({ ending: 'completed', cursorEnd: 'claude_chat_ok', unitFailureCount: 1 });
    expect(h.jobs.jobs().map((j) => j.fileId)).toEqual(['claude_file_2']);
  });

  it(
    'ends the run on a failure that is every chat’s (no budget): ' + 'the cursor stays, nothing goes to the retry list',
    async () => {
      const h = harness();
      h.listing.addChat('claude_chat_a', [messageWithFile('claude_chat_msg_a1', 'claude_file_a1')]);
      h.listing.failMessages('claude_chat_a', new BudgetExhaustedError('compliance', 1_000));

      const ledger = await h.run();

      expect(ledger).toMatchObject({ ending: 'throttled', cursorEnd: null, unitFailureCount: 0 });
      expect(h.store.retryList('chats')).toEqual([]);
    },
  );
});

describe('chat poller: a chat read in part is never passed over', () => {
  it('ends `deadline` and keeps the cursor when the stop margin comes between the pages of the last chat', async () => {
    const h = harness();
    h.listing.addChat('claude_chat_a', [messageWithFile('claude_chat_msg_a1', 'claude_file_a1')]);
    h.listing.addChat('claude_chat_long', [
      messageWithFile('claude_chat_msg_l1', 'claude_file_l1'),
      messageWithFile('claude_chat_msg_l2', 'claude_file_l2'),
    ]);
    // The stop margin arrives while the long chat's first page is read.
    h.listing.onMessages = (chatId) => {
      if (chatId === 'claude_chat_long') h.clock.ms += 590_000;
    };

    const first = await h.run();

    expect(first).toMatchObject({ ending: 'deadline', cursorEnd: null });
    expect(h.jobs.jobs().map((j) => j.fileId)).toEqual(['claude_file_a1', 'claude_file_l1']);
    h.listing.onMessages = undefined;

    const second = await h.run();

    expect(second).toMatchObject({ ending: 'completed', cursorStart: null, cursorEnd: 'claude_chat_long' });
    expect(h.jobs.jobs().map((j) => j.fileId)).toContain('claude_file_l2');
  });
});

describe('chat poller: a rejected message cursor is the chat’s matter', () => {
  it('reads the chat again from its first message and never stores a message id as the listing cursor', async () => {
    const h = harness();
    h.listing.addChat(
      'claude_chat_a',
      [messageWithFile('claude_chat_msg_a1', 'claude_file_a1')],
      '2025-07-01T00:00:00Z',
    );
    // Its stored cursor names a message upstream no longer knows.
    await h.store.putChatCheckpoint('claude_chat_a', {
      lastMessageId: 'claude_chat_msg_gone',
      updatedAt: '2025-06-01T00:00:00Z',
    });

    const ledger = await h.run();

    expect(ledger).toMatchObject({ ending: 'completed', unitsRestarted: ['claude_chat_a'], error: null });
    expect(h.jobs.jobs().map((j) => j.fileId)).toEqual(['claude_file_a1']);
    const checkpoint = await h.store.getCheckpoint('chats');
    expect(checkpoint?.cursor).toBe('claude_chat_a');
    expect(checkpoint?.rejectedCursor ?? null).toBeNull();
    expect(await h.store.getChatCheckpoint('claude_chat_a')).toEqual({
      lastMessageId: 'claude_chat_msg_a1',
      updatedAt: '2025-07-01T00:00:00Z',
    });
  });
});

describe('poller run: it always ends on its own terms', () => {
  it('aborts a request still waiting at the stop margin and writes its ledger record before the deadline', async () => {
    const h = harness();
    h.deps.now = Date.now;
    h.listing.addChat('claude_chat_slow', [messageWithFile('claude_chat_msg_s1', 'claude_file_s1')]);
    // A request that would wait far past the deadline (a budget wait plus a header timeout).
    h.listing.onMessages = (_chatId, _after, signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    const deadlineMs = Date.now() + 1_500;

    const outcome = await runChatPoller(h.deps, { deadlineMs, stopMarginMs: 1_200, leaseMs: 60_000 });

    expect(Date.now()).toBeLessThan(deadlineMs);
    expect(outcome.kind === 'ran' && outcome.ledger).toMatchObject({
      ending: 'deadline',
      cursorEnd: null,
      error: null,
    });
    expect(h.store.ledger).toHaveLength(1);
    expect(h.store.leases.get('chats')?.owner).toBe('');
  });
});
