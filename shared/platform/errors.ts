import type { UpstreamApi } from '../upstream/request-gate.js';

/**
 * One error hierarchy for the project. An error states what went wrong; what happens next (retry in
 * process, requeue, record a final outcome, dead-letter) is decided in one place from its class:
 * `decideFailure` in shared/ingest/failure-decision.ts for the ingest path, and the lookup API's
 * status mapping in shared/lookup/lookup-http.ts for callers' requests.
 */
export class ArchiverError extends Error {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
  }
}

/** An upstream HTTP answer other than success. Carries what the logs and the failure decision need. */
export class UpstreamHttpError extends ArchiverError {
  /** Whether upstream's retry rules (status, `x-should-retry`) allow another attempt. */
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  /** The `x-should-retry` header's verdict, when upstream sent one; it overrides the status. */
  readonly shouldRetry: boolean | undefined;

  constructor(
    readonly status: number,
    readonly errorType: string | undefined,
    readonly requestId: string | undefined,
    opts: { retryable: boolean; retryAfterMs?: number | undefined; shouldRetry?: boolean | undefined },
  ) {
    super(`upstream answered ${status}${errorType ? ` (${errorType})` : ''}`);
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.shouldRetry = opts.shouldRetry;
  }
}

/** 429: the organization's request budget is spent; the message waits in the queue for `retryAfterMs`. */
export class UpstreamRateLimitedError extends UpstreamHttpError {}

/**
 * No grant from the shared upstream request budget (shared/discovery/rate-budget.ts) came within the
 * caller's wait: retry after `retryAfterMs`, when the next window opens. A wait, not a 429.
 */
export class BudgetExhaustedError extends ArchiverError {
  constructor(
    readonly api: UpstreamApi,
    readonly retryAfterMs: number,
  ) {
    super(`no ${api} request budget within the wait allowed`);
  }
}

/** 401/403: the key is wrong or lacks a scope. Nothing else will succeed until an operator acts. */
export class UpstreamAuthError extends UpstreamHttpError {}

/** A connection failure, a timeout, or a body that broke mid-stream. */
export class UpstreamTransportError extends ArchiverError {
  constructor(
    message: string,
    readonly code: string | undefined,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

/** Upstream JSON that does not match the documented shape. Retrying does not fix it. */
export class UpstreamContractError extends ArchiverError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

export type IntegrityCheck = 'size' | 'content-md5' | 'metadata-md5' | 'too-many-parts';

/** The bytes received do not match what upstream published. The upload was aborted; nothing is visible. */
export class IntegrityError extends ArchiverError {
  constructor(
    readonly check: IntegrityCheck,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`integrity check failed: ${check} expected ${expected}, got ${actual}`);
  }
}

/**
 * Upstream published no size for the file and served more than the configured maximum
 * (`UNSIZED_MAX_MIB`): the download was cut off there, and nothing was stored.
 */
export class UnsizedFileTooLargeError extends ArchiverError {
  constructor(readonly maxBytes: number) {
    super(`upstream published no size and served more than the ${maxBytes} bytes allowed without one`);
  }
}

/**
 * Some ingest jobs were still refused by the queue after every attempt (JobSender in
 * shared/discovery/ports.ts, shared/platform/sqs-job-sender.ts); the caller must not move its checkpoint.
 */
export class EnqueueFailedError extends ArchiverError {
  constructor(readonly refused: number) {
    super(`the queue refused ${refused} job(s) after retries`);
  }
}

/** Another delivery holds the claim on this file; try again once its lease may have ended. */
export class ClaimHeldError extends ArchiverError {
  constructor(readonly retryAfterMs: number) {
    super('another delivery is archiving this file');
  }
}

/** The Lambda's remaining time ran out; the job goes back to the queue. */
export class DeadlineError extends ArchiverError {
  constructor(cause?: unknown) {
    super('the invocation deadline was reached', { cause });
  }
}

/** A queue message that is not a valid ingest job. It will never become one. */
export class MalformedJobError extends ArchiverError {
  constructor(readonly reason: string) {
    super(`malformed job: ${reason}`);
  }
}

/** Why a caller's request cannot be served as asked; each maps to one HTTP status in the lookup API. */
export type RejectionKind =
  | 'invalid_request'
  | 'not_found'
  | 'not_archived'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type';

/** A request the caller can fix or should be told about. Its message is safe to show the caller. */
export class RequestRejectedError extends ArchiverError {
  constructor(
    readonly kind: RejectionKind,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A listing cursor that was not issued for this listing (a chat's files, a search, the trail, the
 * ledger: each binds its cursors to its own filters) or has been tampered with.
 */
export class InvalidCursorError extends RequestRejectedError {
  constructor() {
    super('invalid_request', 'cursor is not valid for this listing (its filters changed, or it was not issued here)');
  }
}

/**
 * A configuration that fails validation: a Lambda's environment at cold start, or the deployment's
 * CDK context at synth. The message names every bad key, so the operator can fix it from the message.
 */
export class ConfigurationError extends ArchiverError {}

/**
 * The `request-id` of the upstream answer a failure happened on or after (a body that broke, bytes
 * that failed a check, a store that failed while the body streamed), noted where the failure is
 * caught, so that logs and records carry it with every failure, as the runbook promises.
 */
const upstreamRequestIds = new WeakMap<object, string>();

/** Notes `requestId` on `err` unless it already carries one. Ignores non-objects and empty ids. */
export function noteUpstreamRequestId(err: unknown, requestId: string | undefined): void {
  if (typeof err !== 'object' || err === null || !requestId || upstreamRequestIdOf(err) !== undefined) return;
  upstreamRequestIds.set(err, requestId);
}

/** The upstream `request-id` a failure carries: its own for an HTTP error answer, else the one noted. */
export function upstreamRequestIdOf(err: unknown): string | undefined {
  if (err instanceof UpstreamHttpError && err.requestId) return err.requestId;
  return typeof err === 'object' && err !== null ? upstreamRequestIds.get(err) : undefined;
}

/**
 * What a record may keep of a failure that auditors can read: this project's own messages, and only
 * the name of anything else (an SDK's message can carry internal detail).
 */
export function describeForRecord(err: unknown): string {
  if (err instanceof ArchiverError) return describeError(err);
  return err instanceof Error ? err.name.slice(0, 100) : 'unknown error';
}

/** A short description of an error for logs and records; never includes request headers. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 500);
  return String(err).slice(0, 500);
}
