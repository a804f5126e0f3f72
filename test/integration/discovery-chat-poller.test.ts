import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runChatPoller } from '../../shared/discovery/chat-poller.js';
import type { ChatPollerDeps } from '../../shared/discovery/chat-poller.js';
import type { DiscoveryStore } from '../../shared/discovery/ports.js';
import { DISCOVERY_METRIC } from '../../shared/contracts/metric-names.js';
import type { GeneratedUpstreamFile, UploadedUpstreamFile } from '../../local/upstream/catalogue.js';
import { createDiscoveryStack } from '../support/discovery-stack.js';
import type { DiscoveryStack } from '../support/discovery-stack.js';
import { artifactFileFactory, generatedFileFactory, randomIdBody, uploadedFileFactory } from '../support/upstream.js';

let stack: DiscoveryStack;
beforeEach(async () => {
  stack = await createDiscoveryStack();
});
afterEach(async () => {
  await stack.close();
});

function chatPollerDeps(overrides: Partial<ChatPollerDeps> = {}): ChatPollerDeps {
  return { ...stack.deps('chats'), deletions: stack.poller('chats').deletions, messagePageSize: 2, ...overrides };
}

/** `count` chats, each with one uploaded and `generatedPerChat` generated files, created minutes apart. */
function chatsWithFiles(count: number, generatedPerChat = 2): (GeneratedUpstreamFile | UploadedUpstreamFile)[] {
  const files: (GeneratedUpstreamFile | UploadedUpstreamFile)[] = [];
  for (let c = 0; c < count; c++) {
    const chatId = `claude_chat_${randomIdBody()}`;
    const minute = String(c % 60).padStart(2, '0');
    const hour = String(10 + Math.floor(c / 60)).padStart(2, '0');
    files.push(uploadedFileFactory({ chatIds: [chatId], createdAt: `2025-06-02T${hour}:${minute}:00.000000Z` }));
    for (let g = 0; g < generatedPerChat; g++) {
      files.push(generatedFileFactory({ chatId, createdAt: `2025-06-02T${hour}:${minute}:0${g + 1}.000000Z` }));
    }
  }
  return files;
}

describe('chat poller against the local upstream, dynalite and fauxqs', () => {
  it('pages through every chat and message page and enqueues one job per file, with all its metadata', async () => {
    const files = chatsWithFiles(35);
    await stack.addFiles(...files);

    const outcome = await runChatPoller(chatPollerDeps(), stack.runOptions());

    expect(outcome.kind).toBe('ran');
    if (outcome.kind !== 'ran') return;
    expect(outcome.ledger).toMatchObject({
      source: 'chats',
      ending: 'completed',
      cursorStart: null,
      jobsEnqueued: files.length,
      invalidRecords: 0,
    });
    // 35 chats in pages of 10, then 35 chats × 2 message pages (3 messages, 2 per page).
    expect(outcome.ledger.pages).toBe(4 + 35 * 2);
    const jobs = await stack.drainJobs();
    expect(jobs.map((j) => j.fileId).sort()).toEqual(files.map((f) => f.id).sort());
    const generated = files.find((f): f is GeneratedUpstreamFile => f.source === 'generated');
    const job = jobs.find((j) => j.fileId === generated?.id);
    expect(job).toEqual({
      v: 1,
      fileId: generated?.id,
      chatId: generated?.chatId,
      file: {
        filename: 'report.txt',
        md5: expect.stringMatching(/^[0-9a-f]{32}$/),
        mime_type: 'text/plain',
        size_bytes: 23,
        created_at: null,
      },
      // Who and where, from the chats listing; the message the file was generated in.
      provenance: {
        creator: { id: 'user_01LocalSampleUser', emailAddress: '01localsampleuser@example.com' },
        organizationId: 'org_01Local',
        projectId: null,
        messageIds: [expect.stringMatching(/^claude_chat_msg_/)],
      },
    });
    const uploaded = jobs.find((j) => j.fileId.startsWith('claude_file_'));
    expect(uploaded?.file).toMatchObject({
      created_at: expect.stringMatching(/^2025-06-02T/),
      md5: expect.any(String),
      size_bytes: 17,
    });
    expect(stack.metricTotal(DISCOVERY_METRIC.jobsEnqueued)).toBe(files.length);
  });

  it(
    'reads only what changed on the next run: unchanged chats cost ' + 'no request, a new message is picked up',
    async () => {
      const files = chatsWithFiles(12);
      await stack.addFiles(...files);
      await runChatPoller(chatPollerDeps(), stack.runOptions());
      await stack.drainJobs();
      const firstChat = files[0] as UploadedUpstreamFile;
      const later = generatedFileFactory({
        chatId: firstChat.chatIds[0] ?? '',
        createdAt: '2025-07-01T00:00:00.000000Z',
      });
      await stack.addFiles(later);
      const before = stack.upstream.requests.length;

      const outcome = await runChatPoller(chatPollerDeps(), stack.runOptions());

      expect(outcome.kind === 'ran' && outcome.ledger).toMatchObject({ ending: 'completed', jobsEnqueued: 1 });
      expect((await stack.drainJobs()).map((j) => j.fileId)).toEqual([later.id]);
      const messageReads = stack.upstream.requests
        .slice(before)
        .filter((r: { path: string; query: URLSearchParams; status?: number | undefined }) =>
          r.path.endsWith('/messages'),
        );
      expect(
        messageReads.map((r: { path: string; query: URLSearchParams; status?: number | undefined }) => r.path),
      ).toEqual([`/v1/compliance/apps/chats/${firstChat.chatIds[0]}/messages`]);
      expect(messageReads[0]?.query.get('after_id')).toMatch(/^claude_chat_msg_/);
    },
  );

  it('re-reads after a crash between enqueue and checkpoint: nothing is skipped', async () => {
    const files = chatsWithFiles(8);
    await stack.addFiles(...files);
    const real = stack.poller('chats').store;
    let chatCheckpoints = 0;
    // The process dies right after SendMessageBatch accepted the 4th chat's jobs, before its checkpoint.
    const crashing: DiscoveryStore = Object.assign(
      Object.create(Object.getPrototypeOf(real) as object) as DiscoveryStore,
      real,
      {
        putChatCheckpoint: async (chatId: string, cp: Parameters<DiscoveryStore['putChatCheckpoint']>[1]) => {
          chatCheckpoints += 1;
          if (chatCheckpoints === 4) throw new Error('killed');
          await real.putChatCheckpoint(chatId, cp);
        },
      },
    );

    const crashed = await runChatPoller(chatPollerDeps({ store: crashing, messagePageSize: 1000 }), stack.runOptions());
    const resumed = await runChatPoller(chatPollerDeps({ messagePageSize: 1000 }), stack.runOptions());

    expect(crashed.kind === 'ran' && crashed.ledger.ending).toBe('failed');
    expect(resumed.kind === 'ran' && resumed.ledger.ending).toBe('completed');
    const jobs = await stack.drainJobs();
    expect(new Set(jobs.map((j) => j.fileId))).toEqual(new Set(files.map((f) => f.id)));
    // Only the crashed chat's jobs are sent twice (3 files); the three chats checkpointed before are not re-read.
    expect(jobs.length).toBe(files.length + 3);
  });

  it('stops cleanly before its deadline and the next run continues from the checkpoint', async () => {
    const files = chatsWithFiles(30, 1);
    await stack.addFiles(...files);
    // A clock that advances one second per reading: the run's 20 s budget runs out part-way.
    let t = Date.now();
    const ticking = () => (t += 1_000);

    const first = await runChatPoller(chatPollerDeps({ now: ticking, messagePageSize: 1000 }), {
      deadlineMs: t + 20_000,
      stopMarginMs: 2_000,
      leaseMs: 120_000,
    });
    const checkpoint = await stack.store.getCheckpoint('chats');
    const second = await runChatPoller(chatPollerDeps({ messagePageSize: 1000 }), stack.runOptions());

    expect(first.kind === 'ran' && first.ledger.ending).toBe('deadline');
    expect(first.kind === 'ran' && first.ledger.jobsEnqueued).toBeGreaterThan(0);
    expect(first.kind === 'ran' && first.ledger.jobsEnqueued).toBeLessThan(files.length);
    expect(second.kind === 'ran' && second.ledger).toMatchObject({
      ending: 'completed',
      cursorStart: checkpoint?.cursor ?? null,
    });
    const jobs = await stack.drainJobs();
    expect(new Set(jobs.map((j) => j.fileId))).toEqual(new Set(files.map((f) => f.id)));
    expect(jobs.length).toBe(files.length);
  });

  it(
    "carries each chat's creator, organization and project into its " + "files' jobs (null where upstream says null)",
    async () => {
      const [inProject, ...rest] = chatsWithFiles(2, 1);
      await stack.addFiles(inProject as UploadedUpstreamFile, ...rest);
      const projectChat = (inProject as UploadedUpstreamFile).chatIds[0] ?? '';
      const otherChat = (rest[1] as UploadedUpstreamFile).chatIds[0] ?? '';
      stack.upstream.listings.setChat(projectChat, { projectId: 'claude_proj_01Plan', userId: 'user_01Bob' });
      stack.upstream.listings.setChat(otherChat, { creatorGone: true });

      await runChatPoller(chatPollerDeps(), stack.runOptions());

      const jobs = await stack.drainJobs();
      expect(jobs).toHaveLength(4);
      for (const job of jobs) {
        const inTheProject = job.chatId === projectChat;
        expect(job.provenance).toEqual({
          creator: inTheProject ? { id: 'user_01Bob', emailAddress: '01bob@example.com' } : null,
          organizationId: 'org_01Local',
          projectId: inTheProject ? 'claude_proj_01Plan' : null,
          messageIds: [expect.stringMatching(/^claude_chat_msg_/)],
        });
      }
    },
  );

  it("enqueues each version of a chat's artifacts as a file, with its message and the chat's provenance", async () => {
    const chatId = `claude_chat_${randomIdBody()}`;
    const v1 = artifactFileFactory({ chatId, createdAt: '2025-06-02T10:00:00.000000Z' });
    const v2 = artifactFileFactory({ chatId, artifactId: v1.artifactId, createdAt: '2025-06-02T10:05:00.000000Z' });
    await stack.addFiles(v1, v2);

    await runChatPoller(chatPollerDeps(), stack.runOptions());

    const jobs = await stack.drainJobs();
    expect(jobs.map((j) => j.fileId).sort()).toEqual([v1.id, v2.id].sort());
    expect(jobs.find((j) => j.fileId === v1.id)).toEqual({
      v: 1,
      fileId: v1.id,
      chatId,
      file: { filename: 'Launch plan' },
      provenance: expect.objectContaining({
        organizationId: 'org_01Local',
        messageIds: [`claude_chat_msg_${v1.id.slice('claude_artifact_version_'.length)}_a`],
      }),
    });
  });

  it('archives a soft-deleted chat and records its deletion on the index', async () => {
    const [upload, ...generated] = chatsWithFiles(1);
    const chatId = (upload as UploadedUpstreamFile).chatIds[0] ?? '';
    await stack.addFiles(upload as UploadedUpstreamFile, ...generated);
    stack.upstream.listings.setChat(chatId, { deletedAt: '2025-06-05T08:00:00.000000Z' });

    await runChatPoller(chatPollerDeps(), stack.runOptions());

    expect((await stack.drainJobs()).length).toBe(3);
    expect(await stack.deletions.getUpstreamDeletions([chatId])).toEqual([
      expect.objectContaining({
        id: chatId,
        kind: 'chat',
        deletedAt: '2025-06-05T08:00:00.000000Z',
        via: 'chat_soft_delete',
      }),
    ]);
  });

  it('reports a cursor upstream rejects (400), keeps it and never resets it', async () => {
    await stack.addFiles(...chatsWithFiles(15));
    await runChatPoller(chatPollerDeps(), stack.runOptions());
    await stack.drainJobs();
    const before = await stack.store.getCheckpoint('chats');
    stack.upstream.injectFault('', 'chats', { status: 400 });

    const rejected = await runChatPoller(chatPollerDeps(), stack.runOptions());

    expect(rejected.kind === 'ran' && rejected.ledger).toMatchObject({
      ending: 'cursor_rejected',
      cursorStart: before?.cursor,
      cursorEnd: before?.cursor,
      lastRequestId: expect.stringMatching(/^req_/),
    });
    expect(await stack.store.getCheckpoint('chats')).toMatchObject({
      cursor: before?.cursor,
      rejectedCursor: before?.cursor,
    });
    expect(stack.metricTotal(DISCOVERY_METRIC.cursorRejected)).toBe(1);
    expect(await stack.drainJobs()).toEqual([]);
    // Upstream accepts it again: the next run goes on from the same place and clears the report.
    const next = await runChatPoller(chatPollerDeps(), stack.runOptions());
    expect(next.kind === 'ran' && next.ledger.ending).toBe('completed');
    expect((await stack.store.getCheckpoint('chats'))?.rejectedCursor).toBeNull();
  });

  it(
    'reads every other chat past one whose messages answer 403, archives ' +
      'a filename SQS would refuse, and retries the 403 chat later',
    async () => {
      const files = chatsWithFiles(6, 0) as UploadedUpstreamFile[];
      const odd = uploadedFileFactory({
        filename: 'odd\ufffename\uffff.txt',
        createdAt: '2025-06-02T10:30:00.000000Z',
      });
      await stack.addFiles(...files, odd);
      const forbidden = files[2]?.chatIds[0] ?? '';
      stack.upstream.injectFault(forbidden, 'messages', { status: 403 });

      const first = await runChatPoller(chatPollerDeps(), stack.runOptions());

      expect(first.kind === 'ran' && first.ledger).toMatchObject({
        ending: 'completed',
        unitFailureCount: 1,
        unitFailures: [{ id: forbidden, requestId: expect.stringMatching(/^req_/) }],
        retriesPending: 1,
        jobsEnqueued: files.length,
      });
      const jobs = await stack.drainJobs();
      expect(jobs.map((j) => j.fileId).sort()).toEqual(
        [...files.filter((f) => f.chatIds[0] !== forbidden), odd].map((f) => f.id).sort(),
      );
      expect(jobs.find((j) => j.fileId === odd.id)?.file?.filename).toBe('odd\ufffename\uffff.txt');
      expect(await stack.store.listRetries('chats', 10)).toEqual([
        expect.objectContaining({ unitId: forbidden, attempts: 1 }),
      ]);
      expect(stack.metricTotal(DISCOVERY_METRIC.unitFailures)).toBe(1);

      // Its wait over, a later run reads it and takes it off the list.
      const later = Date.now() + 61_000;
      const retried = await runChatPoller(chatPollerDeps({ now: () => later }), stack.runOptions(120_000));

      expect(retried.kind === 'ran' && retried.ledger).toMatchObject({ ending: 'completed', retriesPending: 0 });
      expect((await stack.drainJobs()).map((j) => j.fileId)).toEqual(
        files.filter((f) => f.chatIds[0] === forbidden).map((f) => f.id),
      );
      expect(await stack.store.listRetries('chats', 10)).toEqual([]);
    },
  );

  it('lets only one of two overlapping runs proceed', async () => {
    await stack.addFiles(...chatsWithFiles(10));

    const outcomes = await Promise.all([
      runChatPoller(chatPollerDeps(), stack.runOptions()),
      runChatPoller(chatPollerDeps(), stack.runOptions()),
    ]);

    expect(outcomes.map((o) => o.kind).sort()).toEqual(['lease_held', 'ran']);
    expect((await stack.drainJobs()).length).toBe(30);
  });

  it('writes a ledger record per run, listed newest first', async () => {
    await stack.addFiles(...chatsWithFiles(3));
    const first = await runChatPoller(chatPollerDeps(), stack.runOptions());
    await new Promise((r) => setTimeout(r, 5));
    const second = await runChatPoller(chatPollerDeps(), stack.runOptions());

    const { runs } = await stack.store.listLedger('chats', 10, undefined);

    expect(runs.map((r) => r.runId)).toEqual([second, first].map((o) => (o.kind === 'ran' ? o.ledger.runId : '')));
    expect(runs[1]).toMatchObject({
      source: 'chats',
      ending: 'completed',
      pages: 1 + 3 * 2,
      records: 3 + 3 * 3,
      jobsEnqueued: 9,
      cursorStart: null,
      cursorEnd: expect.stringMatching(/^claude_chat_/),
    });
    expect(runs[0]).toMatchObject({ pages: 1, records: 0, jobsEnqueued: 0, cursorStart: runs[1]?.cursorEnd });
  });
});
