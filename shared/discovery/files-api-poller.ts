import { serializeJob } from '../contracts/job.js';
import { asCursorRejection, runPoller } from './poller-run.js';
import type { RunContext, RunOptions, RunOutcome } from './poller-run.js';
import type { ArchivedFiles, PollerDeps } from './ports.js';

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
    // One batched question per page (shared/index/dynamodb-archived-files.ts), not one read per file.
    const final = await deps.archived.finalAmong(
      page.items.map((f) => f.id),
      ctx.signal,
    );
    const bodies = page.items.filter((f) => !final.has(f.id)).map((f) => serializeJob({ fileId: f.id }));
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
