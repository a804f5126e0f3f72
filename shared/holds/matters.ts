import { isDeepStrictEqual } from 'node:util';
import type { HoldAction, HoldProgress, Matter, PlaceHoldRequest } from '../contracts/holds.js';
import { serializeHoldWork } from '../contracts/holds.js';
import { RequestRejectedError } from '../platform/errors.js';
import type { HoldWorkSender, MatterStore } from './ports.js';

/**
 * Placing and releasing matters (the lookup API's `POST /holds`, `DELETE /holds/{matterId}`). Neither
 * touches a file: each records the matter and queues the first page of its sweep (hold-work.ts).
 */
export interface MatterDeps {
  matters: MatterStore;
  work: HoldWorkSender;
  /**
   * How long a release sweep waits before it starts (SQS DelaySeconds, at most 900): at least the
   * ingest function's timeout, so that no ingest invocation that read the matter as active before
   * the release can still be writing a hold for it after the sweep passed its file. Tests set 0.
   */
  releaseDelaySeconds: number;
  now: () => number;
}

export function newProgress(action: HoldAction, at: string): HoldProgress {
  return { action, page: 0, sent: false, scanned: 0, matched: 0, changed: 0, done: false, startedAt: at };
}

/**
 * Records a new matter and queues its sweep. The same request again (same reason and scope) answers
 * the stored matter, and queues the first page again if its message was never sent (a failed send
 * leaves the matter for the caller to retry); a different one under a used id is a conflict.
 */
export async function placeMatter(
  request: PlaceHoldRequest,
  caller: string,
  deps: MatterDeps,
  signal: AbortSignal,
): Promise<{ created: boolean; matter: Matter }> {
  const at = new Date(deps.now()).toISOString();
  const matter: Matter = {
    matterId: request.matterId,
    reason: request.reason,
    scope: request.scope,
    status: 'active',
    placedBy: caller,
    placedAt: at,
    progress: newProgress('place', at),
  };
  if (!(await deps.matters.create(matter))) {
    const existing = await deps.matters.get(request.matterId);
    if (
      existing?.status !== 'active' ||
      existing.reason !== request.reason ||
      !isDeepStrictEqual(existing.scope, request.scope)
    ) {
      throw new RequestRejectedError(
        'conflict',
        `Matter ${request.matterId} already exists (${existing?.status ?? 'unknown'}) ` +
          `with another reason or scope; use a new matter id.`,
      );
    }
    await sendPending(existing, deps, signal, 0);
    return { created: false, matter: (await deps.matters.get(request.matterId)) ?? existing };
  }
  await sendPending(matter, deps, signal, 0);
  return { created: true, matter: (await deps.matters.get(request.matterId)) ?? matter };
}

/**
 * Releases one matter: its sweep removes the matter from every record it holds and turns a version's
 * S3 legal hold off only where no other matter still holds it. Releasing a released matter is a no-op.
 */
export async function releaseMatter(
  matterId: string,
  caller: string,
  deps: MatterDeps,
  signal: AbortSignal,
): Promise<Matter> {
  const existing = await deps.matters.get(matterId);
  if (!existing) throw new RequestRejectedError('not_found', `No matter ${matterId}.`);
  if (existing.status === 'released') {
    await sendPending(existing, deps, signal, deps.releaseDelaySeconds);
    return (await deps.matters.get(matterId)) ?? existing;
  }
  const at = new Date(deps.now()).toISOString();
  const released = await deps.matters.release(matterId, caller, at, newProgress('release', at));
  const matter = released ?? (await deps.matters.get(matterId)) ?? existing;
  await sendPending(matter, deps, signal, deps.releaseDelaySeconds);
  return (await deps.matters.get(matterId)) ?? matter;
}

/** Sends the message of the matter's current page when it was not sent yet (and the sweep is not done). */
async function sendPending(matter: Matter, deps: MatterDeps, signal: AbortSignal, delaySeconds: number): Promise<void> {
  const p = matter.progress;
  if (p.done || p.sent) return;
  const body = serializeHoldWork({
    matterId: matter.matterId,
    action: p.action,
    page: p.page,
    ...(p.cursor ? { cursor: p.cursor } : {}),
  });
  await deps.work.send([body], signal, { delaySeconds });
  await deps.matters.markSent(matter.matterId, { action: p.action, page: p.page });
}
