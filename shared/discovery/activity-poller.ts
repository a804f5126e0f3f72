import { IngestJobSchema, serializeJob } from '../contracts/job.js';
import type { IngestJob } from '../contracts/job.js';
import type { Activity } from '../upstream/listing-schemas.js';
import { withProvenance } from './chat-poller.js';
import { asCursorRejection, runPoller } from './poller-run.js';
import type { RunContext, RunOptions, RunOutcome } from './poller-run.js';
import type { DeletionRecorder, PollerDeps, UpstreamDeletion } from './ports.js';

/** The activity types discovery acts on; the feed is asked for these only. */
export const DISCOVERY_ACTIVITY_TYPES = [
  'claude_file_uploaded',
  'claude_project_file_uploaded',
  'claude_project_document_uploaded',
  'claude_file_deleted',
  'claude_chat_deleted',
  'claude_project_deleted',
  'claude_project_document_deleted',
] as const;

export interface ActivityPollerDeps extends PollerDeps {
  deletions: DeletionRecorder;
  /** The window's upper bound stays at least this far in the past (activities appear ~1 minute late). */
  visibilityLagMs: number;
  /** Where the very first run starts (ISO); null reads the whole feed. */
  startAt: string | null;
  /**
   * Upload jobs are held back this long (SQS DelaySeconds): the chat poller usually finds the same
   * file in its chat with full metadata first, and the activity's job then costs no upstream request.
   */
  uploadJobDelaySeconds: number;
}

/**
 * The activity poller: reads the feed in ascending order in windows whose upper bound stays
 * `visibilityLagMs` in the past, resuming from the last activity id; deduplicates on activity id;
 * turns uploads into ingest jobs and records deletions of files and chats on the index.
 */
export function runActivityPoller(deps: ActivityPollerDeps, opts: RunOptions): Promise<RunOutcome> {
  return runPoller('activities', deps, opts, (ctx) => pollActivities(ctx, deps));
}

async function pollActivities(ctx: RunContext, deps: ActivityPollerDeps): Promise<'completed' | 'deadline'> {
  const upper = new Date(deps.now() - Math.max(60_000, deps.visibilityLagMs)).toISOString();
  const lower = ctx.checkpoint?.windowEnd ?? deps.startAt;
  ctx.setWindow(lower, upper);
  let cursor = ctx.checkpoint?.cursor ?? null;
  const handled = new Set<string>();
  for (;;) {
    if (ctx.shouldStop()) return 'deadline';
    let page;
    try {
      page = await deps.upstream.listActivities(
        {
          afterId: cursor ?? undefined,
          createdAtGte: lower ?? undefined,
          createdAtLt: upper,
          types: DISCOVERY_ACTIVITY_TYPES,
          limit: deps.pageSize,
        },
        ctx.signal,
      );
    } catch (err) {
      throw asCursorRejection(err, cursor);
    }
    ctx.page(page);
    const fresh: Activity[] = [];
    for (const activity of page.items) {
      // At-least-once delivery: the same id may come twice in a page, across pages or across runs.
      if (handled.has(activity.id) || (await deps.store.hasSeenActivity(activity.id))) continue;
      handled.add(activity.id);
      fresh.push(activity);
    }
    const jobs = fresh.map(jobOf).filter((j): j is IngestJob => j !== undefined);
    // An upload to a chat waits for the chat poller; one outside any chat (a project's file) has no
    // other poller to find it, so it goes at once: the visibility lag already delays it.
    const inChats = jobs.filter((j) => j.chatId !== undefined);
    const elsewhere = jobs.filter((j) => j.chatId === undefined);
    if (inChats.length > 0)
      await deps.jobs.send(
        inChats.map((j) => serializeJob(j)),
        ctx.signal,
        { delaySeconds: deps.uploadJobDelaySeconds },
      );
    if (elsewhere.length > 0)
      await deps.jobs.send(
        elsewhere.map((j) => serializeJob(j)),
        ctx.signal,
      );
    if (jobs.length > 0) ctx.jobsEnqueued(jobs.length);
    for (const activity of fresh) {
      const deletion = deletionOf(activity);
      if (deletion) await deps.deletions.recordUpstreamDeletion(deletion, deps.now());
    }
    await deps.store.markActivitiesSeen(
      fresh.map((a) => a.id),
      deps.now(),
    );
    if (page.lastId && page.lastId !== cursor) {
      cursor = page.lastId;
      await ctx.saveCheckpoint({ ...ctx.checkpoint, cursor });
    }
    if (!page.hasMore) {
      ctx.setLagSeconds(Math.round((deps.now() - Date.parse(upper)) / 1000));
      return 'completed';
    }
  }
}

function jobOf(activity: Activity): IngestJob | undefined {
  // The activity names the organization and, for project uploads, the project (never the creator of
  // the chat or project: its actor is the uploader).
  const provenance = {
    organizationId: activity.organization_id ?? activity.organization_uuid ?? undefined,
    ...(activity.claude_project_id ? { projectId: activity.claude_project_id } : {}),
  };
  const appearedAt = activity.created_at ? IngestJobSchema.shape.appearedAt.safeParse(activity.created_at) : undefined;
  const appeared = appearedAt?.success && appearedAt.data ? { appearedAt: appearedAt.data } : {};
  if (activity.type === 'claude_project_document_uploaded' && activity.claude_project_document_id) {
    return withProvenance({ v: 1, fileId: activity.claude_project_document_id, ...appeared }, provenance);
  }
  if (activity.type !== 'claude_file_uploaded' && activity.type !== 'claude_project_file_uploaded') return undefined;
  if (!activity.claude_file_id) return undefined;
  return withProvenance(
    {
      v: 1,
      fileId: activity.claude_file_id,
      ...(activity.claude_chat_id ? { chatId: activity.claude_chat_id } : {}),
      // The activity's time is when the upload happened: ingest reports the capture latency from it.
      ...appeared,
    },
    provenance,
  );
}

function deletionOf(activity: Activity): UpstreamDeletion | undefined {
  const common = {
    deletedAt: activity.created_at ?? null,
    via: 'activity' as const,
    activityId: activity.id,
    ...(activity.actor ? { actor: activity.actor } : {}),
  };
  if (activity.type === 'claude_file_deleted' && activity.claude_file_id)
    return { id: activity.claude_file_id, kind: 'file', ...common };
  if (activity.type === 'claude_chat_deleted' && activity.claude_chat_id)
    return { id: activity.claude_chat_id, kind: 'chat', ...common };
  if (activity.type === 'claude_project_deleted' && activity.claude_project_id)
    return { id: activity.claude_project_id, kind: 'project', ...common };
  if (activity.type === 'claude_project_document_deleted' && activity.claude_project_document_id)
    return { id: activity.claude_project_document_id, kind: 'document', ...common };
  return undefined;
}
