import type { UnavailableReason } from '../contracts/file-records.js';
import { ClaimHeldError, DeadlineError, IntegrityError, MalformedJobError } from '../platform/errors.js';
import { UpstreamAuthError, UpstreamContractError, UpstreamHttpError, UpstreamRateLimitedError, UpstreamTransportError } from '../platform/errors.js';
import { backoffDelayMs } from '../upstream/retry-rules.js';

/**
 * The failure model of the ingest path, in one place: what happens next after an error. The README's
 * "Failures" table lists the same rows, and test/unit/failure-decision.test.ts holds the two together.
 *
 * - retry-in-process: try the failed upstream call again in this invocation, after `delayMs`;
 * - requeue-after: the message comes back after a delay someone named (upstream's retry-after, the
 *   end of another delivery's lease);
 * - requeue-with-backoff: the message comes back after a delay that grows with its receive count;
 * - record-outcome: no copy can ever be made; the use case records why and the message is done;
 * - dead-letter-now: the message can never be processed; it is copied to the DLQ and acknowledged;
 * - dead-letter-by-redrive: retrying cannot help, but the message is left alone (not acknowledged,
 *   visibility unchanged) so that it reaches the DLQ through the queue's max receive count. An
 *   operator fix (a key, a scope) can still rescue it before then.
 */
export type FailureDecision = { kind: 'retry-in-process'; delayMs: number } | QueueDecision;

/** The decisions that end this delivery: everything but another in-process attempt. */
export type QueueDecision =
  | { kind: 'requeue-after'; delaySeconds: number; cause: 'rate-limited' | 'claim-held' }
  | { kind: 'requeue-with-backoff'; delaySeconds: number; cause: 'integrity' | 'deadline' | 'transient' }
  | { kind: 'record-outcome'; reason: UnavailableReason }
  | { kind: 'dead-letter-now'; reason: string }
  | { kind: 'dead-letter-by-redrive'; cause: 'auth' | 'permanent' };

export interface FailureContext {
  /** Deliveries of this message so far (SQS ApproximateReceiveCount; 1 on the first). */
  receiveCount: number;
}

/** Given by a caller that can make the failed call again in process. */
export interface InProcessAttempt {
  /** Attempts made so far, the failed one included (1 after the first). */
  attempt: number;
  maxAttempts: number;
  /** The invocation's deadline has passed: no further attempt. */
  aborted: boolean;
  random?: (() => number) | undefined;
}

/** The longest in-process wait a `retry-after` may ask for; longer waits happen in the queue. */
export const MAX_IN_PROCESS_WAIT_MS = 8_000;
/** SQS accepts a visibility timeout of at most 12 hours. */
export const MAX_VISIBILITY_SECONDS = 43_200;
/** How long a 429 without `retry-after` keeps the message waiting. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

export function decideFailure(err: unknown, ctx: FailureContext): QueueDecision;
export function decideFailure(err: unknown, ctx: FailureContext & { inProcess: InProcessAttempt }): FailureDecision;
export function decideFailure(err: unknown, ctx: FailureContext & { inProcess?: InProcessAttempt }): FailureDecision {
  const p = ctx.inProcess;
  if (p && isRetryableInProcess(err) && p.attempt < p.maxAttempts && !p.aborted) {
    const asked = err instanceof UpstreamHttpError ? err.retryAfterMs : undefined;
    return {
      kind: 'retry-in-process',
      delayMs: asked !== undefined ? Math.min(asked, MAX_IN_PROCESS_WAIT_MS) : backoffDelayMs(p.attempt - 1, p.random),
    };
  }
  if (err instanceof MalformedJobError) return { kind: 'dead-letter-now', reason: err.reason };
  if (err instanceof ClaimHeldError) return { kind: 'requeue-after', cause: 'claim-held', delaySeconds: Math.ceil(err.retryAfterMs / 1000) };
  if (err instanceof UpstreamRateLimitedError) {
    return { kind: 'requeue-after', cause: 'rate-limited', delaySeconds: Math.ceil((err.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS) / 1000) };
  }
  if (err instanceof UpstreamAuthError) return { kind: 'dead-letter-by-redrive', cause: 'auth' };
  // 404 is final: the file was deleted or has expired upstream.
  if (err instanceof UpstreamHttpError && err.status === 404) return { kind: 'record-outcome', reason: 'not_found' };
  if (err instanceof IntegrityError) return requeueWithBackoff('integrity', ctx.receiveCount);
  if (err instanceof DeadlineError) return requeueWithBackoff('deadline', ctx.receiveCount);
  if ((err instanceof UpstreamHttpError && !err.retryable) || err instanceof UpstreamContractError) {
    return { kind: 'dead-letter-by-redrive', cause: 'permanent' };
  }
  // Upstream 5xx and transport failures whose attempts are spent, and anything unforeseen (S3, DynamoDB).
  return requeueWithBackoff('transient', ctx.receiveCount);
}

/**
 * Connection failures, timeouts, broken bodies and statuses upstream's rules call retryable are worth
 * another attempt at once. Not 429: the message waits in the queue instead of the Lambda sleeping.
 */
function isRetryableInProcess(err: unknown): boolean {
  if (err instanceof UpstreamTransportError) return true;
  return err instanceof UpstreamHttpError && err.retryable && !(err instanceof UpstreamRateLimitedError);
}

function requeueWithBackoff(cause: 'integrity' | 'deadline' | 'transient', receiveCount: number): QueueDecision {
  return { kind: 'requeue-with-backoff', cause, delaySeconds: queueRetryDelaySeconds(receiveCount) };
}

/**
 * How long a message that failed retryably stays invisible before its next delivery, from its
 * receive count: 30 s, 60 s, 120 s … capped at 15 minutes. Spreads retries of an outage over the
 * queue's receive budget instead of spending it in seconds.
 */
export function queueRetryDelaySeconds(receiveCount: number): number {
  const n = Math.max(1, Math.floor(receiveCount));
  return Math.min(30 * 2 ** (n - 1), 900);
}

/** What the queue is asked to do with a message once its delivery is over. */
export interface QueueActions {
  /** Delete the message (report success to the event source): it is done with. */
  ack: boolean;
  /** Hide the message this long before its next delivery; absent: leave its visibility as it is. */
  changeVisibilitySeconds?: number;
  /** Copy the message to the dead-letter queue with this reason, before acknowledging it. */
  sendToDeadLetterQueue?: { reason: string };
}

/** Turns a decision into queue actions. Pure; one row of the README's failure table per decision kind. */
export function toQueueActions(decision: QueueDecision): QueueActions {
  switch (decision.kind) {
    case 'requeue-after':
    case 'requeue-with-backoff':
      return { ack: false, changeVisibilitySeconds: Math.min(Math.max(0, decision.delaySeconds), MAX_VISIBILITY_SECONDS) };
    case 'record-outcome':
      return { ack: true };
    case 'dead-letter-now':
      return { ack: true, sendToDeadLetterQueue: { reason: decision.reason } };
    case 'dead-letter-by-redrive':
      return { ack: false };
  }
}
