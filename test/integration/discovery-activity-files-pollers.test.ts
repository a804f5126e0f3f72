import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runActivityPoller } from '../../shared/discovery/activity-poller.js';
import type { ActivityPollerDeps } from '../../shared/discovery/activity-poller.js';
import { runFilesApiPoller } from '../../shared/discovery/files-api-poller.js';
import type { ListingActivity } from '../../local/upstream/listings.js';
import { createDiscoveryStack } from '../support/discovery-stack.js';
import type { DiscoveryStack } from '../support/discovery-stack.js';
import { filesApiFileFactory, randomIdBody } from '../support/upstream.js';

let stack: DiscoveryStack;
beforeEach(async () => {
  stack = await createDiscoveryStack();
});
afterEach(async () => {
  await stack.close();
});

function activityDeps(overrides: Partial<ActivityPollerDeps> = {}): ActivityPollerDeps {
  return {
    ...stack.deps('activities'),
    deletions: stack.poller('activities').deletions,
    visibilityLagMs: 60_000,
    startAt: null,
    uploadJobDelaySeconds: 0,
    ...overrides,
  };
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

function upload(createdAt: string, chat = true): ListingActivity {
  return {
    id: `activity_${randomIdBody()}`,
    type: 'claude_file_uploaded',
    created_at: createdAt,
    claude_file_id: `claude_file_${randomIdBody()}`,
    ...(chat ? { claude_chat_id: `claude_chat_${randomIdBody()}` } : {}),
    filename: 'notes.md',
  };
}

describe('activity poller', () => {
  it(
    'turns uploads into jobs across pages, ignores other types, and ' + 'keeps its window a minute in the past',
    async () => {
      const uploads = Array.from({ length: 23 }, (_, i) => upload(minutesAgo(30 - i)));
      const project: ListingActivity = { ...upload(minutesAgo(5), false), type: 'claude_project_file_uploaded' };
      const tooRecent = upload(new Date(Date.now() - 10_000).toISOString());
      stack.upstream.listings.addActivities(...uploads, project, tooRecent, {
        id: `activity_${randomIdBody()}`,
        type: 'claude_chat_created',
        created_at: minutesAgo(4),
      });

      const outcome = await runActivityPoller(activityDeps(), stack.runOptions());

      expect(outcome.kind === 'ran' && outcome.ledger).toMatchObject({
        source: 'activities',
        ending: 'completed',
        pages: 3,
        records: 24,
        jobsEnqueued: 24,
        windowStart: null,
      });
      const windowEnd = outcome.kind === 'ran' ? Date.parse(outcome.ledger.windowEnd ?? '') : 0;
      expect(Date.now() - windowEnd).toBeGreaterThanOrEqual(60_000);
      const jobs = await stack.drainJobs();
      expect(jobs.map((j) => j.fileId).sort()).toEqual([...uploads, project].map((a) => a.claude_file_id).sort());
      // The activity's time goes with the job: ingest reports the capture latency from it.
      expect(jobs.find((j) => j.fileId === uploads[0]?.claude_file_id)).toEqual({
        v: 1,
        fileId: uploads[0]?.claude_file_id,
        chatId: uploads[0]?.claude_chat_id,
        // The activity's organization (its actor is the uploader, not the chat's creator: not recorded).
        provenance: { organizationId: 'org_01Local' },
        appearedAt: uploads[0]?.created_at,
      });
      expect(
        stack.upstream.requests.every((r: { path: string; query: URLSearchParams; status?: number | undefined }) =>
          r.query.getAll('activity_types[]').includes('claude_file_deleted'),
        ),
      ).toBe(true);

      // The recent upload becomes visible to the next window, once it is a minute old.
      const next = await runActivityPoller(
        activityDeps({ visibilityLagMs: 0, now: () => Date.now() + 60_000 }),
        stack.runOptions(120_000),
      );
      expect(next.kind === 'ran' && next.ledger).toMatchObject({
        jobsEnqueued: 1,
        windowStart: outcome.kind === 'ran' ? outcome.ledger.windowEnd : '',
      });
      expect((await stack.drainJobs()).map((j) => j.fileId)).toEqual([tooRecent.claude_file_id]);
    },
  );

  it(
    'holds back an upload to a chat (the chat poller finds it with ' +
      'metadata) but sends an upload outside any chat at once',
    async () => {
      const inChat = upload(minutesAgo(10));
      const project: ListingActivity = { ...upload(minutesAgo(9), false), type: 'claude_project_file_uploaded' };
      stack.upstream.listings.addActivities(inChat, project);

      const outcome = await runActivityPoller(activityDeps({ uploadJobDelaySeconds: 900 }), stack.runOptions());

      expect(outcome.kind === 'ran' && outcome.ledger).toMatchObject({ ending: 'completed', jobsEnqueued: 2 });
      // Only the project's job is visible now; the chat upload's waits out its delay in the queue.
      expect(await stack.drainJobs()).toEqual([
        {
          v: 1,
          fileId: project.claude_file_id,
          appearedAt: project.created_at,
          provenance: { organizationId: 'org_01Local' },
        },
      ]);
    },
  );

  it(
    'deduplicates on activity id: a duplicate delivery in the same ' +
      'page, a later page or a later run enqueues nothing',
    async () => {
      const first = upload(minutesAgo(20));
      const others = Array.from({ length: 12 }, (_, i) => upload(minutesAgo(19 - i)));
      // Delivered twice in a row, and again as the first item of the second page.
      stack.upstream.listings.addActivities(
        first,
        { ...first },
        ...others.slice(0, 8),
        { ...first },
        ...others.slice(8),
      );
      await runActivityPoller(activityDeps(), stack.runOptions());
      const jobs = await stack.drainJobs();
      expect(jobs.length).toBe(13);
      expect(new Set(jobs.map((j) => j.fileId)).size).toBe(13);

      // A redelivery long after, past the cursor.
      stack.upstream.listings.addActivities({ ...first, created_at: minutesAgo(2) });
      const again = await runActivityPoller(activityDeps(), stack.runOptions());
      expect(again.kind === 'ran' && again.ledger).toMatchObject({ records: 1, jobsEnqueued: 0 });
      expect(await stack.drainJobs()).toEqual([]);
    },
  );

  it(
    'archives project documents as they are uploaded, with their ' +
      'project, and records project and document deletions',
    async () => {
      const projectId = `claude_proj_${randomIdBody()}`;
      const documentId = `claude_proj_doc_${randomIdBody()}`;
      const deletedDocument = `claude_proj_doc_${randomIdBody()}`;
      const activity = (type: string, minutes: number, extra: Partial<ListingActivity>): ListingActivity => ({
        id: `activity_${randomIdBody()}`,
        type,
        created_at: minutesAgo(minutes),
        claude_project_id: projectId,
        ...extra,
      });
      const uploaded = activity('claude_project_document_uploaded', 12, {
        claude_project_document_id: documentId,
        filename: 'a.md',
      });
      stack.upstream.listings.addActivities(
        uploaded,
        activity('claude_project_document_deleted', 11, { claude_project_document_id: deletedDocument }),
        activity('claude_project_deleted', 10, {}),
      );

      await runActivityPoller(activityDeps(), stack.runOptions());

      expect(await stack.drainJobs()).toEqual([
        {
          v: 1,
          fileId: documentId,
          appearedAt: uploaded.created_at,
          provenance: { organizationId: 'org_01Local', projectId },
        },
      ]);
      expect(await stack.deletions.getUpstreamDeletions([projectId, deletedDocument])).toEqual([
        expect.objectContaining({ id: projectId, kind: 'project', via: 'activity' }),
        expect.objectContaining({ id: deletedDocument, kind: 'document', via: 'activity' }),
      ]);
    },
  );

  it('records file and chat deletions on the index, with when and by whom', async () => {
    const fileId = `claude_file_${randomIdBody()}`;
    const chatId = `claude_chat_${randomIdBody()}`;
    const actor = { type: 'user_actor', user_id: 'user_01Deleter', email_address: 'deleter@example.com' };
    const deletedAt = minutesAgo(10);
    stack.upstream.listings.addActivities(
      {
        id: `activity_${randomIdBody()}`,
        type: 'claude_file_deleted',
        created_at: deletedAt,
        claude_file_id: fileId,
        actor,
      },
      {
        id: `activity_${randomIdBody()}`,
        type: 'claude_chat_deleted',
        created_at: minutesAgo(9),
        claude_chat_id: chatId,
        actor,
      },
    );

    await runActivityPoller(activityDeps(), stack.runOptions());

    const deletions = await stack.deletions.getUpstreamDeletions([fileId, chatId]);
    expect(deletions).toEqual([
      expect.objectContaining({
        id: fileId,
        kind: 'file',
        via: 'activity',
        deletedAt,
        actor: expect.objectContaining({ user_id: 'user_01Deleter' }),
        activityId: expect.stringMatching(/^activity_/),
      }),
      expect.objectContaining({ id: chatId, kind: 'chat', via: 'activity' }),
    ]);
    expect(await stack.drainJobs()).toEqual([]);
  });

  it(
    'reads back every recorded deletion among more than 100 ids (a ' + 'file in many chats), in the order asked',
    async () => {
      const chats = Array.from({ length: 130 }, () => `claude_chat_${randomIdBody()}`);
      for (const [i, chatId] of chats.entries()) {
        if (i % 2 === 0)
          await stack.deletions.recordUpstreamDeletion(
            { id: chatId, kind: 'chat', deletedAt: minutesAgo(5), via: 'chat_soft_delete' },
            Date.now(),
          );
      }
      const deletions = await stack.deletions.getUpstreamDeletions([`claude_file_${randomIdBody()}`, ...chats]);
      expect(deletions.map((d) => d.id)).toEqual(chats.filter((_, i) => i % 2 === 0));
    },
  );

  it('reports a rejected activity cursor and keeps it', async () => {
    stack.upstream.listings.addActivities(upload(minutesAgo(10)));
    await runActivityPoller(activityDeps(), stack.runOptions());
    const before = await stack.store.getCheckpoint('activities');
    stack.upstream.injectFault('', 'activities', { status: 400 });

    const outcome = await runActivityPoller(activityDeps(), stack.runOptions());

    expect(outcome.kind === 'ran' && outcome.ledger.ending).toBe('cursor_rejected');
    expect(await stack.store.getCheckpoint('activities')).toMatchObject({
      cursor: before?.cursor,
      rejectedCursor: before?.cursor,
      windowEnd: before?.windowEnd,
    });
  });
});

describe('Files API poller', () => {
  it('lists every Files API file with the beta header and enqueues those without a final record', async () => {
    const files = Array.from({ length: 25 }, (_, i) =>
      filesApiFileFactory({
        createdAt: `2025-06-03T10:${String(i).padStart(2, '0')}:00.000000Z`,
        downloadable: i % 5 !== 0,
      }),
    );
    await stack.addFiles(...files);
    const done = files[3];
    // One file already has its final record (here: unavailable, as a worker records a non-downloadable file).
    if (!done) throw new Error('no file');
    await stack.files.claim(done.id, 'files_api', 'test', Date.now(), 60_000);
    await stack.files.markUnavailable(
      {
        status: 'unavailable',
        fileId: done.id,
        source: 'files_api',
        chatIds: [],
        filename: 'chart.csv',
        mimeType: 'text/csv',
        sizeBytes: 8,
        createdAt: null,
        upstreamRequestId: null,
        reason: 'not_downloadable',
        detail: 'x',
        recordedAt: new Date().toISOString(),
      },
      'test',
    );

    const outcome = await runFilesApiPoller(
      { ...stack.deps('files_api'), archived: stack.poller('files_api').archived },
      stack.runOptions(),
    );

    expect(outcome.kind === 'ran' && outcome.ledger).toMatchObject({
      source: 'files_api',
      ending: 'completed',
      pages: 3,
      records: 25,
      jobsEnqueued: 24,
    });
    const jobs = await stack.drainJobs();
    expect(jobs.map((j) => j.fileId).sort()).toEqual(
      files
        .filter((f) => f !== done)
        .map((f) => f.id)
        .sort(),
    );
    expect(jobs.every((j) => j.file === undefined && j.chatId === undefined)).toBe(true);
    const listings = stack.upstream.requests.filter(
      (r: { path: string; query: URLSearchParams; status?: number | undefined }) => r.path === '/v1/files',
    );
    expect(
      listings.map((r: { path: string; query: URLSearchParams; status?: number | undefined }) => r.status),
    ).toEqual([200, 200, 200]);
    // A finished walk starts from the top next time.
    expect((await stack.store.getCheckpoint('files_api'))?.cursor).toBeNull();
  });

  it(
    'asks the index once per 100 listed files (BatchGetItem), never ' +
      'one GetItem per file, across pages of more than 100',
    async () => {
      const files = Array.from({ length: 250 }, () => filesApiFileFactory());
      await stack.addFiles(...files);
      const ids = files.map((f) => f.id);
      // Final records on both sides of the 100-key chunk boundary, and one file only claimed (pending: not final).
      const finalIds = [0, 99, 100, 130, 249].map((i) => ids[i] ?? '');
      for (const id of finalIds) {
        await stack.files.claim(id, 'files_api', 'test', Date.now(), 60_000);
        await stack.files.markUnavailable(
          {
            status: 'unavailable',
            fileId: id,
            source: 'files_api',
            chatIds: [],
            filename: 'chart.csv',
            mimeType: 'text/csv',
            sizeBytes: 8,
            createdAt: null,
            upstreamRequestId: null,
            reason: 'not_downloadable',
            detail: 'x',
            recordedAt: new Date().toISOString(),
          },
          'test',
        );
      }
      await stack.files.claim(ids[50] ?? '', 'files_api', 'test', Date.now(), 60_000);
      const side = stack.poller('files_api');
      const indexCalls: { operation: string; keys: number }[] = [];
      side.clients.doc.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { Key?: { pk?: string }; RequestItems?: Record<string, { Keys?: unknown[] }> };
          if (input.Key?.pk?.startsWith('FILE#') || input.RequestItems) {
            indexCalls.push({
              operation: context.commandName ?? '',
              keys: input.RequestItems?.[stack.table]?.Keys?.length ?? 1,
            });
          }
          return next(args);
        },
        { step: 'initialize' },
      );

      const outcome = await runFilesApiPoller(
        { ...stack.deps('files_api', { pageSize: 120 }), archived: side.archived },
        stack.runOptions(),
      );

      expect(outcome.kind === 'ran' && outcome.ledger).toMatchObject({
        ending: 'completed',
        pages: 3,
        records: 250,
        jobsEnqueued: 245,
      });
      const jobs = await stack.drainJobs();
      expect(jobs.map((j) => j.fileId).sort()).toEqual(ids.filter((id) => !finalIds.includes(id)).sort());
      // Pages of 120, 120 and 10 files: 100 + 20, 100 + 20, 10 keys.
      expect(indexCalls).toEqual([100, 20, 100, 20, 10].map((keys) => ({ operation: 'BatchGetItemCommand', keys })));
    },
  );
});
