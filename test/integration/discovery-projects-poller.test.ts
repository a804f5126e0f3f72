import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runProjectsPoller } from '../../shared/discovery/projects-poller.js';
import type { ProjectsPollerDeps } from '../../shared/discovery/projects-poller.js';
import type { SampleProject } from '../../local/upstream/projects.js';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import { createDiscoveryStack } from '../support/discovery-stack.js';
import type { DiscoveryStack } from '../support/discovery-stack.js';
import { randomIdBody, uploadedFileFactory } from '../support/upstream.js';

/**
 * The projects poller against the sample upstream (projects, attachments and documents, paged with
 * `page`/`next_page`), dynalite and fauxqs: what it enqueues, with which provenance, what it skips,
 * and what it records of deletions.
 */
let stack: DiscoveryStack;
beforeEach(async () => {
  stack = await createDiscoveryStack();
});
afterEach(async () => {
  await stack.close();
});

function projectsDeps(overrides: Partial<ProjectsPollerDeps> = {}): ProjectsPollerDeps {
  const side = stack.poller('projects');
  return { ...stack.deps('projects'), deletions: side.deletions, archived: side.archived, ...overrides };
}

/** `count` projects created minutes apart, each with `files` uploaded files and `docs` documents. */
async function projectsWith(count: number, files: number, docs: number): Promise<SampleProject[]> {
  const projects: SampleProject[] = [];
  for (let p = 0; p < count; p++) {
    const minute = String(p % 60).padStart(2, '0');
    const fileIds: string[] = [];
    for (let f = 0; f < files; f++) {
      const file = uploadedFileFactory({ chatIds: [], createdAt: `2025-07-01T10:${minute}:0${f}.000000Z` });
      await stack.addFiles(file);
      fileIds.push(file.id);
    }
    const project: SampleProject = {
      id: `claude_proj_${randomIdBody()}`,
      createdAt: `2025-07-01T09:${minute}:00.000000Z`,
      userId: `user_01Owner${p}`,
      fileIds,
      documents: Array.from({ length: docs }, (_, d) => ({
        id: `claude_proj_doc_${randomIdBody()}`,
        filename: `notes-${d}.md`,
        content: `# Notes ${p}.${d}\n`,
        createdAt: `2025-07-01T11:${minute}:0${d}.000000Z`,
      })),
    };
    stack.upstream.listings.projects.set(project);
    projects.push(project);
  }
  return projects;
}

const idsOf = (projects: SampleProject[]) =>
  projects.flatMap((p) => [...(p.fileIds ?? []), ...(p.documents ?? []).map((d) => d.id)]).sort();

describe('projects poller against the local upstream, dynalite and fauxqs', () => {
  it(
    'pages through every project and every attachment page, enqueuing ' + 'each file and document with its project',
    async () => {
      // 23 projects in pages of 10; each has 12 attachments, two pages of 10.
      const projects = await projectsWith(23, 7, 5);

      const outcome = await runProjectsPoller(projectsDeps(), stack.runOptions());

      expect(outcome.kind === 'ran' && outcome.ledger).toMatchObject({
        source: 'projects',
        ending: 'completed',
        cursorStart: null,
        cursorEnd: null,
        pages: 3 + 23 * 2,
        jobsEnqueued: 23 * 12,
        invalidRecords: 0,
      });
      const jobs = await stack.drainJobs();
      expect(jobs.map((j) => j.fileId).sort()).toEqual(idsOf(projects));
      const [first] = projects;
      const doc = jobs.find((j) => j.fileId === first?.documents?.[0]?.id);
      expect(doc).toEqual({
        v: 1,
        fileId: first?.documents?.[0]?.id,
        file: { filename: 'notes-0.md', mime_type: 'text/plain', created_at: '2025-07-01T11:00:00.000000Z' },
        provenance: {
          creator: { id: 'user_01Owner0', emailAddress: '01owner0@example.com' },
          organizationId: 'org_01Local',
          projectId: first?.id,
        },
      });
      const file = jobs.find((j) => j.fileId === first?.fileIds?.[0]);
      expect(file).toMatchObject({
        file: { filename: expect.any(String), md5: expect.stringMatching(/^[0-9a-f]{32}$/), size_bytes: 17 },
        provenance: { projectId: first?.id, organizationId: 'org_01Local' },
      });
      expect(file).not.toHaveProperty('chatId');
    },
  );

  it(
    'skips attachments already archived with a project, and enqueues ' + 'again one archived without a project',
    async () => {
      const [project] = await projectsWith(1, 2, 1);
      const [withProject, withoutProject] = project?.fileIds ?? [];
      const archived = (fileId: string, projectId?: string): ArchivedRecord => ({
        status: 'archived',
        fileId,
        source: 'uploaded',
        chatIds: [],
        filename: 'f',
        mimeType: null,
        sizeBytes: 1,
        createdAt: null,
        upstreamRequestId: null,
        md5: '0'.repeat(32),
        sha256: '0'.repeat(64),
        bucket: 'b',
        key: 'k',
        versionId: null,
        contentType: 'text/plain',
        contentDisposition: 'attachment',
        archivedAt: '2025-07-02T00:00:00.000Z',
        ...(projectId ? { projectId } : {}),
      });
      for (const [id, projectId] of [
        [withProject, project?.id],
        [withoutProject, undefined],
      ] as const) {
        await stack.files.claim(id ?? '', 'uploaded', 'test', Date.now(), 60_000);
        await stack.files.markArchived(archived(id ?? '', projectId), 'test');
      }

      await runProjectsPoller(projectsDeps(), stack.runOptions());

      const enqueued = (await stack.drainJobs()).map((j) => j.fileId).sort();
      expect(enqueued).toEqual([withoutProject, project?.documents?.[0]?.id].sort());
    },
  );

  it(
    'records a project deleted in the app, keeps null where upstream ' +
      'says the creator is gone, and still enqueues its attachments',
    async () => {
      const [deleted, orphan] = await projectsWith(2, 1, 1);
      stack.upstream.listings.projects.update(deleted?.id ?? '', { deletedAt: '2025-07-03T08:00:00.000000Z' });
      stack.upstream.listings.projects.update(orphan?.id ?? '', { userId: null });

      await runProjectsPoller(projectsDeps(), stack.runOptions());

      const jobs = await stack.drainJobs();
      expect(jobs).toHaveLength(4);
      expect(jobs.filter((j) => j.provenance?.projectId === orphan?.id).map((j) => j.provenance?.creator)).toEqual([
        null,
        null,
      ]);
      expect(await stack.deletions.getUpstreamDeletions([deleted?.id ?? '', orphan?.id ?? ''])).toEqual([
        expect.objectContaining({
          id: deleted?.id,
          kind: 'project',
          deletedAt: '2025-07-03T08:00:00.000000Z',
          via: 'project_soft_delete',
        }),
      ]);
    },
  );

  it('skips a project whose attachments answer 404 (hard-deleted after the listing) and reads the rest', async () => {
    const [gone, ...rest] = await projectsWith(3, 1, 1);
    stack.upstream.injectFault(gone?.id ?? '', 'attachments', { status: 404 });

    const outcome = await runProjectsPoller(projectsDeps(), stack.runOptions());

    expect(outcome.kind === 'ran' && outcome.ledger.ending).toBe('completed');
    expect((await stack.drainJobs()).map((j) => j.fileId).sort()).toEqual(idsOf(rest));
    expect(stack.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'project listed but gone when its attachments were read' }),
    );
  });

  it('stops cleanly before its deadline and the next run resumes the walk from its page token', async () => {
    const projects = await projectsWith(25, 1, 0);
    // A clock that advances one second per reading: the run's 18 s budget runs out in the second page.
    let t = Date.now();
    const ticking = () => (t += 1_000);

    const first = await runProjectsPoller(projectsDeps({ now: ticking }), {
      deadlineMs: t + 18_000,
      stopMarginMs: 2_000,
      leaseMs: 120_000,
    });
    const checkpoint = await stack.store.getCheckpoint('projects');
    const second = await runProjectsPoller(projectsDeps(), stack.runOptions());

    expect(first.kind === 'ran' && first.ledger.ending).toBe('deadline');
    expect(checkpoint?.cursor).toMatch(/^page_/);
    expect(second.kind === 'ran' && second.ledger).toMatchObject({
      ending: 'completed',
      cursorStart: checkpoint?.cursor,
      cursorEnd: null,
    });
    // Every project's file was enqueued by one run or the other (a page cut short is read again).
    const jobs = new Set((await stack.drainJobs()).map((j) => j.fileId));
    expect([...jobs].sort()).toEqual(idsOf(projects));
  });

  describe('change polls between full walks', () => {
    const pagesOf = (outcome: Awaited<ReturnType<typeof runProjectsPoller>>) =>
      outcome.kind === 'ran' ? outcome.ledger.pages : Number.NaN;

    it(
      'asks only for projects updated since the last poll: one request when idle, ' +
        'and a newly attached file costs its project alone',
      async () => {
        const projects = await projectsWith(12, 1, 0);
        await runProjectsPoller(projectsDeps(), stack.runOptions());
        await stack.drainJobs();

        // Nothing changed: one projects page with nothing in it, no walk of the 12 projects.
        const idle = await runProjectsPoller(projectsDeps(), stack.runOptions());
        expect(pagesOf(idle)).toBe(1);
        expect(await stack.drainJobs()).toEqual([]);

        // A file attached to one project (the sample upstream bumps its updated_at, as the design assumes).
        const file = uploadedFileFactory({ chatIds: [] });
        await stack.addFiles(file);
        const target = projects[7];
        stack.upstream.listings.projects.attach(target?.id ?? '', file.id);
        const changed = await runProjectsPoller(projectsDeps(), stack.runOptions());

        // Two requests: the changed projects, then that project's attachments. Its earlier file is enqueued
        // again too, as it is not archived yet in this test (the queue was drained, not worked).
        expect(changed.kind === 'ran' && changed.ledger).toMatchObject({
          ending: 'completed',
          pages: 2,
          jobsEnqueued: 2,
        });
        const jobs = await stack.drainJobs();
        expect(jobs.map((j) => [j.fileId, j.provenance?.projectId]).sort()).toEqual(
          [...(target?.fileIds ?? []), file.id].map((id) => [id, target?.id]).sort(),
        );
      },
    );

    it(
      'still walks every project when the full walk is due, ' +
        'finding an attachment whose project updated_at did not move',
      async () => {
        const projects = await projectsWith(3, 1, 0);
        await runProjectsPoller(projectsDeps(), stack.runOptions());
        await stack.drainJobs();
        const file = uploadedFileFactory({ chatIds: [] });
        await stack.addFiles(file);
        const target = projects[1];
        // Attached without a change of updated_at: a change poll cannot see it.
        stack.upstream.listings.projects.update(target?.id ?? '', {
          fileIds: [...(target?.fileIds ?? []), file.id],
          updatedAt: target?.createdAt ?? '',
        });

        await runProjectsPoller(projectsDeps(), stack.runOptions());
        expect(await stack.drainJobs()).toEqual([]);

        const later = () => Date.now() + 16 * 60_000;
        const walk = await runProjectsPoller(projectsDeps({ now: later }), {
          deadlineMs: later() + 60_000,
          stopMarginMs: 0,
          leaseMs: 120_000,
        });
        expect(pagesOf(walk)).toBe(1 + 1 + 3);
        // Every attachment of every project (none is archived in this test), the hidden one included.
        expect((await stack.drainJobs()).map((j) => j.fileId).sort()).toEqual([...idsOf(projects), file.id].sort());
        // The next walk is due 15 minutes after this one began, not after the first.
        const walkedAt = Date.parse((await stack.store.getCheckpoint('projects'))?.lastFullWalkAt ?? '');
        expect(walkedAt).toBeGreaterThan(Date.now() + 15 * 60_000);
      },
    );

    it(
      'walks a long listing in slices, polling changes before each slice, ' +
        'and reads every project once the walk ends',
      async () => {
        const projects = await projectsWith(25, 1, 0);
        // A slice ends after its first projects page (pages of 10): the walk takes three polls.
        const sliced = projectsDeps({ fullWalkSliceMs: 1 });
        const first = await runProjectsPoller(sliced, stack.runOptions());
        const enqueued = new Set((await stack.drainJobs()).map((j) => j.fileId));
        const afterFirst = await stack.store.getCheckpoint('projects');
        expect(first.kind === 'ran' && first.ledger.ending).toBe('completed');
        expect(afterFirst?.cursor).toMatch(/^page_/);
        expect(afterFirst?.lastFullWalkAt ?? null).toBeNull();

        const file = uploadedFileFactory({ chatIds: [] });
        await stack.addFiles(file);
        const late = projects[24];
        stack.upstream.listings.projects.attach(late?.id ?? '', file.id);
        // The change poll finds the new file at once, though the walk has not reached its project.
        const second = await runProjectsPoller(sliced, stack.runOptions());
        expect(second.kind === 'ran' && second.ledger.cursorStart).toBe(afterFirst?.cursor);
        for (const j of await stack.drainJobs()) enqueued.add(j.fileId);
        expect(enqueued).toContain(file.id);

        await runProjectsPoller(sliced, stack.runOptions());
        for (const j of await stack.drainJobs()) enqueued.add(j.fileId);
        const done = await stack.store.getCheckpoint('projects');
        expect(done?.cursor).toBeNull();
        expect(done?.lastFullWalkAt).toBe(afterFirst?.fullWalkStartedAt);
        expect([...enqueued].sort()).toEqual([...idsOf(projects), file.id].sort());
      },
    );
  });
});
