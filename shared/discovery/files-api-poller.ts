import { serializeJob } from '../contracts/job.js';
import { asCursorRejection, runPoller } from './poller-run.js';
import type { RunContext, RunOptions, RunOutcome } from './poller-run.js';
import type { ArchivedFiles, PollerDeps } from './ports.js';
import type { FileRecord } from '../contracts/file-records.js';

/**
 * The index as the Files API poller needs it: archived, unavailable and failed are final, pending is
 * not. A failed file is left to an operator (a redrive of its dead letter, or a new job), so that a
 * file that cannot be archived is not enqueued again on every walk.
 */
export function archivedFilesFrom(index: { get(fileId: string): Promise<FileRecord | undefined> }): ArchivedFiles {
  return {
    async isFinal(fileId) {
      const record = await index.get(fileId);
      return record !== undefined && record.status !== 'pending';
    },
  };
}

export interface FilesApiPollerDeps extends PollerDeps {
  archived: ArchivedFiles;
}

/**
 * The Files API poller: lists `GET /v1/files` for the configured key and enqueues every file that
 * has no final record yet (the worker reads its metadata and honours `downloadable`). The listing
 * has no order by change time, so each walk goes through the whole listing; the cursor is kept only
 * to resume a walk cut short by the deadline, and a finished walk starts the next one from the top.
 */
export function runFilesApiPoller(deps: FilesApiPollerDeps, opts: RunOptions): Promise<RunOutcome> {
  return runPoller('files_api', deps, opts, (ctx) => pollFiles(ctx, deps));
}

async function pollFiles(ctx: RunContext, deps: FilesApiPollerDeps): Promise<'completed' | 'deadline'> {
  let cursor = ctx.checkpoint?.cursor ?? null;
  for (;;) {
    if (ctx.shouldStop()) return 'deadline';
    let page;
    try {
      page = await deps.upstream.listFiles({ afterId: cursor ?? undefined, limit: deps.pageSize }, ctx.signal);
    } catch (err) {
      throw asCursorRejection(err, cursor);
    }
    ctx.page(page);
    const finals = await Promise.all(page.items.map((f) => deps.archived.isFinal(f.id)));
    const bodies = page.items.filter((_, i) => !finals[i]).map((f) => serializeJob({ fileId: f.id }));
    if (bodies.length > 0) {
      await deps.jobs.send(bodies, ctx.signal);
      ctx.jobsEnqueued(bodies.length);
    }
    if (!page.hasMore) {
      // The walk is complete: the next run starts from the top again.
      await ctx.saveCheckpoint({ ...ctx.checkpoint, cursor: null });
      return 'completed';
    }
    if (page.lastId) {
      cursor = page.lastId;
      await ctx.saveCheckpoint({ ...ctx.checkpoint, cursor });
    }
  }
}
