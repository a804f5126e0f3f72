import { IngestJobSchema, serializeJob } from '../contracts/job.js';
import type { IngestJob, JobProvenance } from '../contracts/job.js';
import { describeError, UpstreamContractError, UpstreamHttpError } from '../platform/errors.js';
import { ownerProvenance } from '../upstream/listing-schemas.js';
import type { Project, ProjectAttachment } from '../upstream/listing-schemas.js';
import { withProvenance } from './chat-poller.js';
import { asCursorRejection, runPoller } from './poller-run.js';
import type { RunContext, RunOptions, RunOutcome } from './poller-run.js';
import type { ArchivedFiles, DeletionRecorder, PollerDeps } from './ports.js';

/** Upstream's page size bound on the projects and attachments listings. */
export const PROJECT_PAGE_LIMIT = 100;

export interface ProjectsPollerDeps extends PollerDeps {
  deletions: DeletionRecorder;
  archived: ArchivedFiles;
}

/**
 * The projects poller: walks every project (`GET /v1/compliance/apps/projects`, ascending by
 * creation) and each project's attachments, and enqueues every attached file (`claude_file_…`) and
 * project document (`claude_proj_doc_…`) that has no final record naming a project yet, with the
 * project's creator, organization and id as provenance. A project deleted in the app (`deleted_at`)
 * is recorded on the index like a soft-deleted chat. Neither listing can be asked for what changed
 * (attachments have no update time), so each walk reads every project, as the Files API poller does;
 * the `next_page` token is kept only to resume a walk cut short by the deadline, and a finished walk
 * starts the next one from the top. One project that cannot be read (gone between the listing and its
 * attachments, or an answer that does not match the reference) is logged and skipped: it never stops
 * the rest, and the next walk reads it again.
 */
export function runProjectsPoller(deps: ProjectsPollerDeps, opts: RunOptions): Promise<RunOutcome> {
  return runPoller('projects', deps, opts, (ctx) => pollProjects(ctx, deps));
}

async function pollProjects(ctx: RunContext, deps: ProjectsPollerDeps): Promise<'completed' | 'deadline'> {
  let cursor = ctx.checkpoint?.cursor ?? null;
  const limit = Math.min(PROJECT_PAGE_LIMIT, deps.pageSize);
  for (;;) {
    if (ctx.shouldStop()) return 'deadline';
    let page;
    try {
      page = await deps.upstream.listProjects({ page: cursor ?? undefined, limit }, ctx.signal);
    } catch (err) {
      throw asCursorRejection(err, cursor);
    }
    ctx.page(page);
    for (const project of page.items) {
      // The cursor stays at this page's start: the next run reads it again (jobs are idempotent).
      if (ctx.shouldStop()) return 'deadline';
      await pollProject(project, ctx, deps, limit);
    }
    if (!page.hasMore || !page.lastId) {
      await ctx.saveCheckpoint({ ...ctx.checkpoint, cursor: null });
      return 'completed';
    }
    cursor = page.lastId;
    await ctx.saveCheckpoint({ ...ctx.checkpoint, cursor });
  }
}

async function pollProject(project: Project, ctx: RunContext, deps: ProjectsPollerDeps, limit: number): Promise<void> {
  if (project.deleted_at) {
    // Deleted in the app: its attachments stay readable for now and are still archived.
    await deps.deletions.recordUpstreamDeletion(
      { id: project.id, kind: 'project', deletedAt: project.deleted_at, via: 'project_soft_delete' },
      deps.now(),
    );
  }
  const provenance: JobProvenance = { ...ownerProvenance(project), projectId: project.id };
  let pageToken: string | undefined;
  for (;;) {
    let page;
    try {
      page = await deps.upstream.listProjectAttachments(project.id, { page: pageToken, limit }, ctx.signal);
    } catch (err) {
      if (err instanceof UpstreamHttpError && err.status === 404) {
        deps.log.warn('project listed but gone when its attachments were read', {
          projectId: project.id,
          requestId: err.requestId,
        });
        return;
      }
      if (err instanceof UpstreamContractError) {
        deps.log.error('a project attachments page does not match the reference; the project is skipped this walk', {
          projectId: project.id,
          error: describeError(err),
        });
        ctx.page({ items: [], invalid: 1, requestId: undefined });
        return;
      }
      throw err;
    }
    ctx.page(page);
    const final = await deps.archived.finalAmong(
      page.items.map((a) => a.id),
      ctx.signal,
      { withProject: true },
    );
    const bodies = page.items.filter((a) => !final.has(a.id)).map((a) => serializeJob(attachmentJob(a, provenance)));
    if (bodies.length > 0) {
      await deps.jobs.send(bodies, ctx.signal);
      ctx.jobsEnqueued(bodies.length);
    }
    if (!page.hasMore || !page.lastId) return;
    pageToken = page.lastId;
  }
}

/**
 * The job of one attachment: its id, what the listing says of it (the filename, so that even a
 * dead-lettered record names the file) and the project's provenance. An attached file has no chat
 * here, so the worker reads its metadata (which lists its chats); a document's text and creator come
 * from the documents endpoint.
 */
export function attachmentJob(attachment: ProjectAttachment, provenance: JobProvenance): IngestJob {
  const file: Record<string, unknown> = { filename: attachment.filename };
  if (attachment.type === 'project_file') {
    file['md5'] = attachment.md5 ?? null;
    file['mime_type'] = attachment.mime_type || null;
    file['size_bytes'] = attachment.size_bytes ?? null;
  } else {
    file['mime_type'] = 'text/plain';
  }
  if (attachment.created_at) file['created_at'] = attachment.created_at;
  const withFile = { v: 1 as const, fileId: attachment.id, file };
  // Metadata the job schema refuses (an empty filename, an odd timestamp) goes; the attachment stays.
  const job: IngestJob = IngestJobSchema.safeParse(withFile).success
    ? (withFile as IngestJob)
    : { v: 1, fileId: attachment.id };
  return withProvenance(job, provenance);
}
