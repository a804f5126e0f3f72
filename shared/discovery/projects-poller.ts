import { IngestJobSchema, serializeJob } from '../contracts/job.js';
import type { IngestJob, JobProvenance } from '../contracts/job.js';
import { describeError, UpstreamContractError, UpstreamHttpError } from '../platform/errors.js';
import { ownerProvenance } from '../upstream/listing-schemas.js';
import type { Project, ProjectAttachment } from '../upstream/listing-schemas.js';
import { withProvenance } from './chat-poller.js';
import { asCursorRejection, runPoller } from './poller-run.js';
import type { RunContext, RunOptions, RunOutcome } from './poller-run.js';
import type { ArchivedFiles, DeletionRecorder, PollerCheckpoint, PollerDeps } from './ports.js';

/** Upstream's page size bound on the projects and attachments listings. */
export const PROJECT_PAGE_LIMIT = 100;

/** A full walk of every project is due this long after the last one began, by default. */
export const DEFAULT_FULL_WALK_EVERY_MS = 15 * 60_000;

/**
 * A change poll asks for projects updated since the previous poll began less this much, so that a
 * change stamped a little before it became visible, or by a clock a little behind ours, is not missed.
 * A project changed within it is read again by the next poll or two (one attachments page each).
 */
export const PROJECT_CHANGE_OVERLAP_MS = 30_000;

export interface ProjectsPollerDeps extends PollerDeps {
  deletions: DeletionRecorder;
  archived: ArchivedFiles;
  /** A full walk is due this long after the last one began (default DEFAULT_FULL_WALK_EVERY_MS). */
  fullWalkEveryMs?: number | undefined;
  /**
   * How long one run works on a full walk before it saves its place and ends (default: no limit).
   * Set when polling repeatedly, so that change polls go on while a long walk proceeds in slices.
   */
  fullWalkSliceMs?: number | undefined;
}

/**
 * The projects poller. Each run first polls for changes: the projects listing filtered by
 * `updated_at.gte` (the previous poll's start less PROJECT_CHANGE_OVERLAP_MS), and the attachments of
 * each project it returns, so a poll costs one request when nothing changed and a file attached to a
 * project is found within about a poll interval. That relies on attaching a file or document bumping
 * the project's `updated_at`, which the reference does not state (docs/upstream-api-facts.md). So,
 * every `fullWalkEveryMs`, the run also walks every project (ascending by creation) and its
 * attachments, as the safety net: attachments have no update time, so only a walk of everything
 * finds what a change poll could miss. Either way the poller enqueues every attached file
 * (`claude_file_…`) and project document (`claude_proj_doc_…`) that has no final record naming a
 * project yet, with the project's creator, organization and id as provenance, and records a project
 * deleted in the app (`deleted_at`) on the index like a soft-deleted chat. The full walk keeps its
 * `next_page` token to resume when cut short by the deadline or its slice; a finished walk starts
 * the next one from the top when it is due. One project that cannot be read (gone between the
 * listing and its attachments, or an answer that does not match the reference) is logged and
 * skipped: it never stops the rest, and the next walk reads it again.
 */
export function runProjectsPoller(deps: ProjectsPollerDeps, opts: RunOptions): Promise<RunOutcome> {
  return runPoller('projects', deps, opts, (ctx) => pollProjects(ctx, deps));
}

async function pollProjects(ctx: RunContext, deps: ProjectsPollerDeps): Promise<'completed' | 'deadline'> {
  const startedMs = deps.now();
  const started = new Date(startedMs).toISOString();
  let checkpoint: PollerCheckpoint = { cursor: null, ...ctx.checkpoint };
  const save = async (change: Partial<PollerCheckpoint>) => {
    checkpoint = { ...checkpoint, ...change };
    await ctx.saveCheckpoint(checkpoint);
  };
  const limit = Math.min(PROJECT_PAGE_LIMIT, deps.pageSize);

  // Changes since the last poll; none before the first full walk began (that walk reads everything).
  if (checkpoint.changedSince) {
    const since = new Date(Date.parse(checkpoint.changedSince) - PROJECT_CHANGE_OVERLAP_MS).toISOString();
    let page: string | undefined;
    for (;;) {
      if (ctx.shouldStop()) return 'deadline';
      const listing = await deps.upstream.listProjects({ page, limit, updatedAtGte: since }, ctx.signal);
      ctx.page(listing);
      for (const project of listing.items) {
        // Cut short, the next run asks for the same changes again (jobs are idempotent).
        if (ctx.shouldStop()) return 'deadline';
        await pollProject(project, ctx, deps, limit);
      }
      if (!listing.hasMore || !listing.lastId) break;
      page = listing.lastId;
    }
    await save({ changedSince: started });
  }

  // The full walk, when due or under way.
  const everyMs = deps.fullWalkEveryMs ?? DEFAULT_FULL_WALK_EVERY_MS;
  const last = checkpoint.lastFullWalkAt ? Date.parse(checkpoint.lastFullWalkAt) : Number.NaN;
  const underWay = checkpoint.cursor !== null;
  if (!underWay && !Number.isNaN(last) && startedMs - last < everyMs) return 'completed';
  const walkStarted = underWay ? (checkpoint.fullWalkStartedAt ?? started) : started;
  // Everything updated before the walk began is read by it: changes are polled from then on.
  if (!underWay) await save({ fullWalkStartedAt: walkStarted, changedSince: checkpoint.changedSince ?? walkStarted });
  const sliceEndsMs = deps.fullWalkSliceMs ? deps.now() + deps.fullWalkSliceMs : Number.POSITIVE_INFINITY;
  let cursor = checkpoint.cursor;
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
      await save({ cursor: null, lastFullWalkAt: walkStarted });
      return 'completed';
    }
    cursor = page.lastId;
    await save({ cursor });
    // This run's share of the walk is done: the next poll polls changes, then goes on from here.
    if (deps.now() >= sliceEndsMs) return 'completed';
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
