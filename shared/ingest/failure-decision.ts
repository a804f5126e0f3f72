import type { FailedReason, UnavailableReason } from '../contracts/file-records.js';
import {
  BudgetExhaustedError,
  ClaimHeldError,
  EnqueueFailedError,
  DeadlineError,
  IntegrityError,
  MalformedJobError,
  UnsizedFileTooLargeError,
} from '../platform/errors.js';
import {
  UpstreamAuthError,
  UpstreamContractError,
  UpstreamHttpError,
  UpstreamRateLimitedError,
  UpstreamTransportError,
} from '../platform/errors.js';
import { backoffDelayMs } from '../upstream/retry-rules.js';

/**
 * The failure model of the ingest path, in one place: what happens next after an error. The failure
 * table in docs/failures.md lists the same rows, and test/unit/failure-decision.test.ts holds the two
 * together.
 *
 * - retry-in-process: try the failed upstream call again in this invocation, after `delayMs`;
 * - requeue-after: the message comes back after a delay someone named (upstream's retry-after, the
 *   end of another delivery's lease, the next window of the shared request budget). Waiting is not
 *   failing: a copy of the message is sent back delayed, carrying its deferral count, and the
 *   delivery is acknowledged, so waits never use up
 *   the queue's receives. After MAX_DEFERRALS the message itself is hidden for the delay instead,
 *   so an endless wait ends in the dead-letter queue like any other repeated failure;
 * - requeue-with-backoff: the message comes back after a delay that grows with its receive count;
 * - record-outcome: the use case records a final outcome (unavailable: no copy can ever be made;
 *   failed: upstream said retrying cannot succeed, or the file is too large to fetch without a
 *   published size) and the message is done;
 * - dead-letter-now: the message can never be processed; it is copied to the DLQ and acknowledged;
 * - dead-letter-by-redrive: retrying cannot help, but the message is left alone (not acknowledged,
 *   visibility unchanged) so that it reaches the DLQ through the queue's max receive count. An
 *   operator fix (a key, a scope) can still rescue it before then.
 */
export type FailureDecision = { kind: 'retry-in-process'; delayMs: number } | QueueDecision;

/** The decisions that end this delivery: everything but another in-process attempt. */
export type QueueDecision =
  | {
      kind: 'requeue-after';
      delaySeconds: number;
      cause: 'rate-limited' | 'claim-held' | 'budget';
      /** The deferral count the delayed copy carries; null once MAX_DEFERRALS are spent. */
      deferral: number | null;
    }
  | { kind: 'requeue-with-backoff'; delaySeconds: number; cause: 'integrity' | 'deadline' | 'transient' }
  | RecordOutcome
  | { kind: 'dead-letter-now'; reason: string }
  | { kind: 'dead-letter-by-redrive'; cause: 'auth' | 'permanent' };

/** A final outcome the use case records: the record's status and its reason. */
export type FinalOutcome =
  | { status: 'unavailable'; reason: UnavailableReason }
  | { status: 'failed'; reason: Exclude<FailedReason, 'dead_lettered'> };
export type RecordOutcome = { kind: 'record-outcome' } & FinalOutcome;

export interface FailureContext {
  /** Deliveries of this message so far (SQS ApproximateReceiveCount; 1 on the first). */
  receiveCount: number;
  /**
   * The size the file's metadata published: null when upstream published none, absent when the
   * metadata was not read. Upstream reports an expired file as a 404 on a file it gave no size for.
   */
  publishedSizeBytes?: number | null;
  /** Times this job was deferred (sent back delayed) before this message; 0 when never. */
  deferrals?: number;
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
/** SQS delays a sent message by at most 15 minutes; a longer wait is deferred again when it comes back. */
export const MAX_DELAY_SECONDS = 900;
/**
 * Deferrals of one job before its waits use the queue's receives again (and so end in the DLQ if the
 * wait never ends): at least 100 upstream answers or lease checks, e.g. 100 minutes of 60-second
 * throttles, or a day of 15-minute waits for a claim.
 */
export const MAX_DEFERRALS = 100;

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
  const deferral = (ctx.deferrals ?? 0) < MAX_DEFERRALS ? (ctx.deferrals ?? 0) + 1 : null;
  if (err instanceof ClaimHeldError)
    return { kind: 'requeue-after', cause: 'claim-held', delaySeconds: Math.ceil(err.retryAfterMs / 1000), deferral };
  // The shared budget had no grant within the worker's wait: the job waits for a later window, as for a 429.
  if (err instanceof BudgetExhaustedError) {
    return {
      kind: 'requeue-after',
      cause: 'budget',
      delaySeconds: Math.max(1, Math.ceil(err.retryAfterMs / 1000)),
      deferral,
    };
  }
  // 404 is final: the file was deleted, or has expired upstream: that is how upstream reports a file
  // it published no size for.
  if (err instanceof UpstreamHttpError && err.status === 404)
    return {
      kind: 'record-outcome',
      status: 'unavailable',
      reason: ctx.publishedSizeBytes === null ? 'expired' : 'not_found',
    };
  // `x-should-retry: false` is upstream saying no retry can succeed, whatever the status (429 included).
  if (err instanceof UpstreamHttpError && err.shouldRetry === false)
    return { kind: 'record-outcome', status: 'failed', reason: 'not_retryable' };
  if (err instanceof UnsizedFileTooLargeError) return { kind: 'record-outcome', status: 'failed', reason: 'too_large' };
  if (err instanceof UpstreamRateLimitedError) {
    const delaySeconds = Math.ceil((err.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS) / 1000);
    return { kind: 'requeue-after', cause: 'rate-limited', delaySeconds, deferral };
  }
  // A 401/403 that upstream calls retryable (`x-should-retry: true`) is retried as any retryable status.
  if (err instanceof UpstreamAuthError && !err.retryable) return { kind: 'dead-letter-by-redrive', cause: 'auth' };
  if (err instanceof IntegrityError) return requeueWithBackoff('integrity', ctx.receiveCount);
  if (err instanceof DeadlineError) return requeueWithBackoff('deadline', ctx.receiveCount);
  if ((err instanceof UpstreamHttpError && !err.retryable) || err instanceof UpstreamContractError) {
    return { kind: 'dead-letter-by-redrive', cause: 'permanent' };
  }
  // Upstream 5xx and transport failures whose attempts are spent, and anything unforeseen (S3, DynamoDB).
  return requeueWithBackoff('transient', ctx.receiveCount);
}

/**
 * Worth another attempt, for a caller that retries a step itself (the CLI's backfill): a status
 * upstream's rules call retryable (a 429 or 5xx), a transport failure, no budget yet, the queue
 * refusing jobs. The ingest path refines it (isRetryableInProcess: a 429 or a budget wait goes to the
 * queue instead), so both sides read the same error classes the same way.
 */
export function isTransientFailure(err: unknown): boolean {
  if (err instanceof UpstreamHttpError) return err.retryable;
  return (
    err instanceof UpstreamTransportError || err instanceof BudgetExhaustedError || err instanceof EnqueueFailedError
  );
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
  /** Send a copy of the message back to the queue, delayed, with this deferral count, before acknowledging it. */
  sendDelayedCopy?: { delaySeconds: number; deferrals: number };
  /** Copy the message to the dead-letter queue with this reason, before acknowledging it. */
  sendToDeadLetterQueue?: { reason: string };
}

/** Turns a decision into queue actions. Pure; one row of the failure table (docs/failures.md) per decision kind. */
export function toQueueActions(decision: QueueDecision): QueueActions {
  switch (decision.kind) {
    case 'requeue-after':
      if (decision.deferral !== null) {
        return {
          ack: true,
          sendDelayedCopy: {
            delaySeconds: Math.min(Math.max(0, decision.delaySeconds), MAX_DELAY_SECONDS),
            deferrals: decision.deferral,
          },
        };
      }
      return {
        ack: false,
        changeVisibilitySeconds: Math.min(Math.max(0, decision.delaySeconds), MAX_VISIBILITY_SECONDS),
      };
    case 'requeue-with-backoff':
      return {
        ack: false,
        changeVisibilitySeconds: Math.min(Math.max(0, decision.delaySeconds), MAX_VISIBILITY_SECONDS),
      };
    case 'record-outcome':
      return { ack: true };
    case 'dead-letter-now':
      return { ack: true, sendToDeadLetterQueue: { reason: decision.reason } };
    case 'dead-letter-by-redrive':
      return { ack: false };
  }
}
