import { serializeJob } from '../contracts/job.js';
import { METRIC } from '../contracts/metric-names.js';
import type { WebhookAccepted, WebhookEvent } from '../contracts/webhook.js';
import { ArchiverError, describeError } from '../platform/errors.js';
import type { Counters, Log } from '../platform/telemetry.js';
import type { ChatFanOut, JobSender, ReplayGuard, StoredOutcome } from './ports.js';

export interface AcceptDeps {
  replays: ReplayGuard;
  jobs: JobSender;
  chats: ChatFanOut;
  log: Log;
  counters: Counters;
  now: () => number;
}

export type AcceptResult =
  | { kind: 'accepted'; body: WebhookAccepted }
  /** Another delivery of this id is being processed right now. */
  | { kind: 'in_progress'; retryAfterSeconds: number }
  /** This webhook-id was already used for another body. */
  | { kind: 'body_mismatch' };

/** What the webhook depends on and the answer it gives when that fails. */
export type Dependency = 'secret' | 'replay store' | 'queue' | 'upstream';

/**
 * A dependency failed or the deadline came first: nothing the caller did wrong, and nothing was
 * acknowledged, so the caller is told to send the same delivery again (503 with Retry-After).
 */
export class DependencyUnavailableError extends ArchiverError {
  constructor(
    readonly dependency: Dependency,
    readonly retryAfterSeconds: number,
    cause: unknown,
  ) {
    super(`${dependency} unavailable`, { cause });
  }
}

const DEFAULT_RETRY_AFTER_SECONDS = 10;

/**
 * Accepts one authentic event: claims its webhook-id, enqueues an ingest job per file id and fans
 * each chat id out into its files' jobs, then records the outcome against the id. A delivery of an
 * id already processed is answered with the stored outcome and does nothing. If anything fails
 * before every job was accepted by the queue, the claim is given up and the error propagates, so
 * the caller gets "retry" and the retry is processed in full (ingest is idempotent: jobs sent
 * twice cost a duplicate delivery, never a second copy).
 */
export async function acceptEvent(
  webhookId: string,
  event: WebhookEvent,
  deps: AcceptDeps,
  signal: AbortSignal,
  bodySha256?: string,
): Promise<AcceptResult> {
  const claim = await guard('replay store', () => deps.replays.claim(webhookId, deps.now(), bodySha256), signal);
  if (claim.kind === 'body_mismatch') return claim;
  if (claim.kind === 'duplicate') {
    return { kind: 'accepted', body: { webhookId, duplicate: true, ...claim.outcome } };
  }
  if (claim.kind === 'in_progress') return { kind: 'in_progress', retryAfterSeconds: claim.retryAfterSeconds };

  let outcome: StoredOutcome;
  try {
    outcome = await enqueueAll(webhookId, event, deps, signal);
  } catch (err) {
    await deps.replays.release(webhookId, claim.token, deps.now()).catch((releaseErr: unknown) => {
      // The claim's lease ends by itself; until then a retry is told "in progress".
      deps.log.warn('could not release the webhook id after a failure', {
        webhookId,
        error: describeError(releaseErr),
      });
    });
    throw err;
  }
  try {
    await deps.replays.complete(webhookId, claim.token, outcome, deps.now(), bodySha256);
  } catch (err) {
    // Every job is on the queue, so the answer is still 202. Only deduplication is weaker: once the
    // lease ends, a redelivery of this id is processed again, which costs duplicate jobs only.
    deps.log.warn('could not record the webhook id as processed', { webhookId, error: describeError(err) });
  }
  return { kind: 'accepted', body: { webhookId, duplicate: false, ...outcome } };
}

async function enqueueAll(
  webhookId: string,
  event: WebhookEvent,
  deps: AcceptDeps,
  signal: AbortSignal,
): Promise<StoredOutcome> {
  const { reason } = event;
  if (event.fileIds.length > 0) {
    const bodies = event.fileIds.map((fileId) => serializeJob({ fileId, ...(reason === undefined ? {} : { reason }) }));
    await guard('queue', () => deps.jobs.send(bodies, signal), signal);
    deps.counters.record(METRIC.webhookJobsEnqueued, bodies.length, 'Count');
  }
  const chats: StoredOutcome['chats'] = [];
  const chatsNotFound: string[] = [];
  // One chat at a time: each costs upstream listing requests from the organization's shared budget. A
  // chat that cannot be read to its end now (time runs out included) is left for the chat poller to
  // finish (`queued`), so no pre-check of the signal here: the fan-out decides.
  for (const chatId of event.chatIds) {
    const result = await guard(
      'upstream',
      () => deps.chats.enqueueChatFiles(chatId, reason, signal, webhookId),
      new AbortController().signal,
    );
    if (result.found) {
      chats.push({ chatId, jobs: result.jobs, ...(result.queued ? { queued: true } : {}) });
      if (result.jobs > 0) deps.counters.record(METRIC.webhookJobsEnqueued, result.jobs, 'Count');
    } else {
      chatsNotFound.push(chatId);
    }
  }
  return { fileIds: event.fileIds, chats, chatsNotFound, ...(reason === undefined ? {} : { reason }) };
}

/** Runs a dependency call; any failure becomes DependencyUnavailableError with a sensible wait. */
export async function guard<T>(dependency: Dependency, call: () => Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw new DependencyUnavailableError(dependency, DEFAULT_RETRY_AFTER_SECONDS, signal.reason);
  try {
    return await call();
  } catch (err) {
    if (err instanceof DependencyUnavailableError) throw err;
    throw new DependencyUnavailableError(dependency, retryAfterSecondsOf(err), err);
  }
}

/** Upstream's retry-after, or when the shared request budget has room again; else a default. */
function retryAfterSecondsOf(err: unknown): number {
  const ms =
    err instanceof Error && 'retryAfterMs' in err && typeof err.retryAfterMs === 'number'
      ? err.retryAfterMs
      : undefined;
  if (ms === undefined) return DEFAULT_RETRY_AFTER_SECONDS;
  return Math.min(3600, Math.max(1, Math.ceil(ms / 1000)));
}
