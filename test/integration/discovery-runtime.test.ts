/**
 * Each poller built as its Lambda builds it (createPollerRuntime: the shared budget, the store, the
 * job sender, the deletions and file records on one DynamoDB and one SQS client), on clients whose
 * calls are recorded as that poller's role: the permission setup then checks every call against the
 * role the CDK app synthesizes for that poller (test/support/permissions/).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDiscoveryStack } from '../support/discovery-stack.js';
import type { DiscoveryStack } from '../support/discovery-stack.js';
import { filesApiFileFactory, generatedFileFactory, randomIdBody } from '../support/upstream.js';

let stack: DiscoveryStack;
beforeEach(async () => {
  stack = await createDiscoveryStack();
});
afterEach(async () => {
  await stack.close();
});

const lambdaContext = { getRemainingTimeInMillis: () => 300_000 };
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

describe('the pollers as deployed, with their roles’ permissions', () => {
  it('chats: walks a soft-deleted chat, enqueues its file and records the deletion', async () => {
    const chatId = `claude_chat_${randomIdBody()}`;
    const file = generatedFileFactory({ chatId });
    await stack.addFiles(file);
    stack.upstream.listings.setChat(chatId, { deletedAt: '2025-06-09T00:00:00.000000Z' });

    const outcome = await stack.runtime('chats')(lambdaContext);

    expect(outcome.kind === 'ran' && outcome.ledger).toMatchObject({
      source: 'chats',
      ending: 'completed',
      jobsEnqueued: 1,
    });
    expect((await stack.drainJobs()).map((j) => j.fileId)).toEqual([file.id]);
    expect(await stack.deletions.getUpstreamDeletions([chatId])).toEqual([
      expect.objectContaining({ id: chatId, kind: 'chat' }),
    ]);
  });

  it(
    'chats, polling repeatedly: finds within the invocation a file ' +
      'that appeared after its first poll, stamped with its message ' +
      'time',
    async () => {
      const chatId = `claude_chat_${randomIdBody()}`;
      const early = generatedFileFactory({ chatId, createdAt: minutesAgo(2) });
      const late = generatedFileFactory({ chatId, createdAt: new Date().toISOString() });
      await stack.addFiles(early);
      // The late file appears upstream while the invocation waits between its polls.
      const appearing = new Promise<void>((resolve) => setTimeout(() => void stack.addFiles(late).then(resolve), 300));

      const outcome = await stack.runtime('chats', { POLL_EVERY_SECONDS: 1, POLL_WINDOW_SECONDS: 3 })(lambdaContext);
      await appearing;

      // Polls at 0, 1 and 2 s: the last one found nothing new.
      expect(outcome.kind === 'ran' && outcome.ledger).toMatchObject({ ending: 'completed', jobsEnqueued: 0 });
      const jobs = await stack.drainJobs();
      expect(jobs.map((j) => [j.fileId, j.appearedAt])).toEqual([
        [early.id, early.createdAt],
        [late.id, late.createdAt],
      ]);
      expect(stack.upstream.requests.filter((r) => r.endpoint === 'chats')).toHaveLength(3);
    },
  );

  it('activities: enqueues an upload and records a file deletion', async () => {
    const uploaded = `claude_file_${randomIdBody()}`;
    const deleted = `claude_file_${randomIdBody()}`;
    stack.upstream.listings.addActivities(
      {
        id: `activity_${randomIdBody()}`,
        type: 'claude_file_uploaded',
        created_at: minutesAgo(10),
        claude_file_id: uploaded,
        filename: 'notes.md',
      },
      {
        id: `activity_${randomIdBody()}`,
        type: 'claude_file_deleted',
        created_at: minutesAgo(9),
        claude_file_id: deleted,
      },
    );

    const outcome = await stack.runtime('activities')(lambdaContext);

    expect(outcome.kind === 'ran' && outcome.ledger).toMatchObject({
      source: 'activities',
      ending: 'completed',
      jobsEnqueued: 1,
    });
    expect((await stack.drainJobs()).map((j) => j.fileId)).toEqual([uploaded]);
    expect(await stack.deletions.getUpstreamDeletions([deleted])).toEqual([
      expect.objectContaining({ id: deleted, kind: 'file' }),
    ]);
  });

  it('files_api: enqueues a file that has no final record', async () => {
    const file = filesApiFileFactory({});
    await stack.addFiles(file);

    const outcome = await stack.runtime('files_api')(lambdaContext);

    expect(outcome.kind === 'ran' && outcome.ledger).toMatchObject({
      source: 'files_api',
      ending: 'completed',
      jobsEnqueued: 1,
    });
    expect((await stack.drainJobs()).map((j) => j.fileId)).toEqual([file.id]);
  });
});
