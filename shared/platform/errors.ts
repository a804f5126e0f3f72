/**
 * One error hierarchy for the project. `retryable` is what the ingest path acts on: a retryable
 * failure returns the message to the queue (after a few in-process attempts where that helps); a
 * non-retryable one is either recorded as a final outcome or left to reach the dead-letter queue.
 */
export class ArchiverError extends Error {
  readonly retryable: boolean;

  constructor(message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.retryable = opts.retryable;
  }
}

/** An upstream HTTP answer other than success. Carries what the logs and the retry policy need. */
export class UpstreamHttpError extends ArchiverError {
  constructor(
    readonly status: number,
    readonly errorType: string | undefined,
    readonly requestId: string | undefined,
    opts: { retryable: boolean; retryAfterMs?: number | undefined },
  ) {
    super(`upstream answered ${status}${errorType ? ` (${errorType})` : ''}`, { retryable: opts.retryable });
    this.retryAfterMs = opts.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

/** 429: the organization's request budget is spent; the message waits in the queue for `retryAfterMs`. */
export class UpstreamRateLimitedError extends UpstreamHttpError {}

/** 401/403: the key is wrong or lacks a scope. Nothing else will succeed until an operator acts. */
export class UpstreamAuthError extends UpstreamHttpError {}

/** A connection failure, a timeout, or a body that broke mid-stream. */
export class UpstreamTransportError extends ArchiverError {
  constructor(
    message: string,
    readonly code: string | undefined,
    cause?: unknown,
  ) {
    super(message, { retryable: true, cause });
  }
}

/** Upstream JSON that does not match the documented shape. Retrying does not fix it. */
export class UpstreamContractError extends ArchiverError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: false, cause });
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
    super(`integrity check failed: ${check} expected ${expected}, got ${actual}`, { retryable: true });
  }
}

/** Another delivery holds the claim on this file; try again once its lease may have ended. */
export class ClaimHeldError extends ArchiverError {
  constructor(readonly retryAfterMs: number) {
    super('another delivery is archiving this file', { retryable: true });
  }
}

/** The Lambda's remaining time ran out; the job goes back to the queue. */
export class DeadlineError extends ArchiverError {
  constructor(cause?: unknown) {
    super('the invocation deadline was reached', { retryable: true, cause });
  }
}

/**
 * What a record may keep of a failure that auditors can read: this project's own messages, and only
 * the name of anything else (an SDK's message can carry internal detail).
 */
export function describeForRecord(err: unknown): string {
  if (err instanceof ArchiverError) return describe(err);
  return err instanceof Error ? err.name.slice(0, 100) : 'unknown error';
}

/** A short description of an error for logs and records; never includes request headers. */
export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 500);
  return String(err).slice(0, 500);
}
