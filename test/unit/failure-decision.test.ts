import { describe, expect, it } from 'vitest';
import {
  decideFailure,
  isTransientFailure,
  MAX_DEFERRALS,
  MAX_VISIBILITY_SECONDS,
  queueRetryDelaySeconds,
  toQueueActions,
} from '../../shared/ingest/failure-decision.js';
import type {
  FailureDecision,
  InProcessAttempt,
  QueueActions,
  QueueDecision,
} from '../../shared/ingest/failure-decision.js';
import {
  BudgetExhaustedError,
  ClaimHeldError,
  DeadlineError,
  EnqueueFailedError,
  IntegrityError,
  MalformedJobError,
  UnsizedFileTooLargeError,
  UpstreamAuthError,
  UpstreamContractError,
  UpstreamHttpError,
  UpstreamRateLimitedError,
  UpstreamTransportError,
} from '../../shared/platform/errors.js';
import { QUEUE_PHRASES, readFailureTable } from '../support/doc-failures.js';

const http = (status: number, retryable: boolean, retryAfterMs?: number) =>
  new UpstreamHttpError(status, undefined, 'req_1', {
    retryable,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
/** An answer carrying `x-should-retry: false`, as the upstream client builds it. */
const refused = (status: number) =>
  new UpstreamHttpError(status, 'api_error', 'req_1', { retryable: false, shouldRetry: false });
const firstOfThree: InProcessAttempt = { attempt: 1, maxAttempts: 3, aborted: false, random: () => 0 };
const lastOfThree: InProcessAttempt = { ...firstOfThree, attempt: 3 };

interface Row {
  /** The failure, raised in process with `inProcess` when given. */
  err?: unknown;
  inProcess?: InProcessAttempt;
  /** For a row that is no error: the decision the use case takes (it records the outcome itself). */
  decided?: QueueDecision;
  receiveCount?: number;
  /** Times the job was deferred before this message. */
  deferrals?: number;
  /** What the file's metadata published as its size (null: none), when it was read. */
  publishedSizeBytes?: number | null;
  /**
   * For "hidden for that delay" and the backoff rows: the visibility expected, in seconds. For the
   * deferral rows: the copy's delay.
   */
  visibilitySeconds?: number;
}

/** One entry per row of the failure table in docs/failures.md, keyed by its first cell. */
const ROWS: Record<string, Row> = {
  '5xx, 529, 408, 409, connection failure, timeout, body broken mid-stream, with attempts left': {
    err: new UpstreamTransportError('the response body broke off (ECONNRESET)', 'ECONNRESET'),
    inProcess: firstOfThree,
  },
  'the same once `UPSTREAM_MAX_ATTEMPTS` (default 3) attempts are spent': {
    err: http(529, true),
    inProcess: lastOfThree,
    receiveCount: 2,
    visibilitySeconds: 60,
  },
  '429': {
    err: new UpstreamRateLimitedError(429, 'rate_limit_error', 'req_1', { retryable: true, retryAfterMs: 12_300 }),
    deferrals: 3,
    visibilitySeconds: 13,
  },
  "another delivery holds the file's claim": { err: new ClaimHeldError(90_000), visibilitySeconds: 90 },
  'no grant from the shared request budget within `BUDGET_MAX_WAIT_MS` (default 20 s)': {
    err: new BudgetExhaustedError('compliance', 400),
    visibilitySeconds: 1,
  },
  'any of these three waits once the job has been deferred 100 times (`MAX_DEFERRALS`)': {
    err: new UpstreamRateLimitedError(429, 'rate_limit_error', 'req_1', { retryable: true, retryAfterMs: 5_000 }),
    deferrals: MAX_DEFERRALS,
    visibilitySeconds: 5,
  },
  '404 for a file with a published size (deleted)': { err: http(404, false), publishedSizeBytes: 12 },
  // Upstream reports an expired file as a 404 on a file it published no size for.
  '404 for a file whose `size_bytes` is null (expired)': { err: http(404, false), publishedSizeBytes: null },
  'Files API file not downloadable': {
    decided: { kind: 'record-outcome', status: 'unavailable', reason: 'not_downloadable' },
  },
  '`x-should-retry: false` with any status but 404 (429, 401 and 403 included)': {
    err: refused(500),
    inProcess: firstOfThree,
  },
  'no `size_bytes`, and more than `UNSIZED_MAX_MIB` (default 500) served': {
    err: new UnsizedFileTooLargeError(500 * 1024 * 1024),
  },
  '401 / 403 without `x-should-retry`': {
    err: new UpstreamAuthError(403, 'permission_error', 'req_1', { retryable: false }),
  },
  'another 4xx (400, 413, …), metadata not in the documented shape': { err: http(400, false), inProcess: firstOfThree },
  'size mismatch, or bytes that do not match `Content-MD5` (the metadata `md5` when that header is absent)': {
    err: new IntegrityError('content-md5', 'a', 'b'),
    inProcess: firstOfThree,
    receiveCount: 3,
    visibilitySeconds: 120,
  },
  "the Lambda's remaining time runs out": {
    err: new DeadlineError(),
    inProcess: { ...firstOfThree, aborted: true },
    visibilitySeconds: 30,
  },
  'any other error (S3, DynamoDB)': {
    err: Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' }),
    receiveCount: 10,
    visibilitySeconds: 900,
  },
  'a body that is not JSON or not a valid job': { err: new MalformedJobError('body is not valid JSON') },
};

function decide(row: Row): FailureDecision {
  if (row.decided) return row.decided;
  const ctx = {
    receiveCount: row.receiveCount ?? 1,
    deferrals: row.deferrals ?? 0,
    ...(row.publishedSizeBytes !== undefined ? { publishedSizeBytes: row.publishedSizeBytes } : {}),
  };
  return row.inProcess ? decideFailure(row.err, { ...ctx, inProcess: row.inProcess }) : decideFailure(row.err, ctx);
}

/** What the failure table's queue phrase promises, for this row. */
function promisedActions(phrase: string, row: Row, decision: QueueDecision): QueueActions {
  switch (phrase) {
    case QUEUE_PHRASES.ack:
      return { ack: true };
    case QUEUE_PHRASES.delay:
    case QUEUE_PHRASES.backoff:
      return { ack: false, changeVisibilitySeconds: row.visibilitySeconds ?? -1 };
    case QUEUE_PHRASES.redrive:
      return { ack: false };
    case QUEUE_PHRASES.deferCopy:
      return {
        ack: true,
        sendDelayedCopy: { delaySeconds: row.visibilitySeconds ?? -1, deferrals: (row.deferrals ?? 0) + 1 },
      };
    case QUEUE_PHRASES.deadLetterNow:
      return {
        ack: true,
        sendToDeadLetterQueue: { reason: decision.kind === 'dead-letter-now' ? decision.reason : '' },
      };
    default:
      throw new Error(`docs/failures.md names queue actions this test does not know: ${phrase}`);
  }
}

describe('the failure table in docs/failures.md', () => {
  const table = readFailureTable();

  it('has exactly the rows this test checks', () => {
    expect(table.map((r) => r.failure).sort()).toEqual(Object.keys(ROWS).sort());
  });

  it.each(table.map((r) => [r.failure, r] as const))('%s', (_failure, documented) => {
    const row = ROWS[documented.failure];
    if (!row) throw new Error('no such row');
    const decision = decide(row);
    expect(decision.kind).toBe(documented.decision);
    if (decision.kind === 'retry-in-process') {
      expect(documented.queue).toBe(QUEUE_PHRASES.inProcess);
      return;
    }
    expect(toQueueActions(decision)).toEqual(promisedActions(documented.queue, row, decision));
  });
});

describe('decideFailure', () => {
  it('retries in process after the wait upstream asked for, at most 8 s, else after capped backoff', () => {
    expect(decideFailure(http(503, true, 2_500), { receiveCount: 1, inProcess: firstOfThree })).toEqual({
      kind: 'retry-in-process',
      delayMs: 2_500,
    });
    expect(decideFailure(http(503, true, 60_000), { receiveCount: 1, inProcess: firstOfThree })).toEqual({
      kind: 'retry-in-process',
      delayMs: 8_000,
    });
    expect(decideFailure(http(503, true), { receiveCount: 1, inProcess: { ...firstOfThree, attempt: 2 } })).toEqual({
      kind: 'retry-in-process',
      delayMs: 1_000,
    });
  });

  it('never retries a 429 in process: the message waits in the queue, 60 s when upstream named no delay', () => {
    const limited = new UpstreamRateLimitedError(429, undefined, undefined, { retryable: true });
    expect(decideFailure(limited, { receiveCount: 1, inProcess: firstOfThree })).toEqual({
      kind: 'requeue-after',
      cause: 'rate-limited',
      delaySeconds: 60,
      deferral: 1,
    });
  });

  it('defers a wait by a delayed copy carrying the next deferral count, until MAX_DEFERRALS are spent', () => {
    const limited = new UpstreamRateLimitedError(429, undefined, undefined, { retryable: true, retryAfterMs: 2_000 });
    expect(decideFailure(limited, { receiveCount: 1, deferrals: 19 })).toMatchObject({
      kind: 'requeue-after',
      deferral: 20,
    });
    expect(decideFailure(new ClaimHeldError(5_000), { receiveCount: 1, deferrals: MAX_DEFERRALS - 1 })).toMatchObject({
      deferral: MAX_DEFERRALS,
    });
    expect(decideFailure(new ClaimHeldError(5_000), { receiveCount: 1, deferrals: MAX_DEFERRALS })).toMatchObject({
      deferral: null,
    });
  });

  it('takes x-should-retry: false as final for every status but 404, a 429, 401 and 403 included', () => {
    for (const status of [500, 529, 503, 408, 409, 400, 413]) {
      expect(decideFailure(refused(status), { receiveCount: 1, inProcess: firstOfThree }), String(status)).toEqual({
        kind: 'record-outcome',
        status: 'failed',
        reason: 'not_retryable',
      });
    }
    const limited = new UpstreamRateLimitedError(429, 'rate_limit_error', 'req_1', {
      retryable: false,
      shouldRetry: false,
      retryAfterMs: 1_000,
    });
    const unauthorized = new UpstreamAuthError(401, 'authentication_error', 'req_1', {
      retryable: false,
      shouldRetry: false,
    });
    const forbidden = new UpstreamAuthError(403, 'permission_error', 'req_1', { retryable: false, shouldRetry: false });
    for (const err of [limited, unauthorized, forbidden]) {
      expect(decideFailure(err, { receiveCount: 1, inProcess: firstOfThree })).toEqual({
        kind: 'record-outcome',
        status: 'failed',
        reason: 'not_retryable',
      });
    }
    expect(decideFailure(refused(404), { receiveCount: 1 })).toEqual({
      kind: 'record-outcome',
      status: 'unavailable',
      reason: 'not_found',
    });
  });

  it('retries a 401 or 403 that upstream calls retryable (x-should-retry: true) like a 5xx', () => {
    const retryable = new UpstreamAuthError(401, 'authentication_error', 'req_1', {
      retryable: true,
      shouldRetry: true,
    });
    expect(decideFailure(retryable, { receiveCount: 1, inProcess: firstOfThree }).kind).toBe('retry-in-process');
    expect(decideFailure(retryable, { receiveCount: 2, inProcess: lastOfThree })).toMatchObject({
      kind: 'requeue-with-backoff',
      cause: 'transient',
    });
  });

  it('lets x-should-retry decide: a retryable 404 is tried again in process, and only then recorded', () => {
    expect(decideFailure(http(404, true), { receiveCount: 1, inProcess: firstOfThree }).kind).toBe('retry-in-process');
    expect(decideFailure(http(404, true), { receiveCount: 1, inProcess: lastOfThree })).toEqual({
      kind: 'record-outcome',
      status: 'unavailable',
      reason: 'not_found',
    });
    expect(decideFailure(http(400, true), { receiveCount: 1, inProcess: firstOfThree }).kind).toBe('retry-in-process');
    expect(decideFailure(http(400, true), { receiveCount: 1 })).toMatchObject({
      kind: 'requeue-with-backoff',
      cause: 'transient',
    });
  });

  it('stops retrying in process once the deadline has passed', () => {
    expect(
      decideFailure(new UpstreamTransportError('aborted', undefined), {
        receiveCount: 1,
        inProcess: { ...firstOfThree, aborted: true },
      }),
    ).toMatchObject({
      kind: 'requeue-with-backoff',
    });
  });

  it('dead-letters by redrive what retrying cannot fix, naming the auth case for its alarm', () => {
    expect(
      decideFailure(new UpstreamAuthError(401, undefined, undefined, { retryable: false }), { receiveCount: 1 }),
    ).toEqual({ kind: 'dead-letter-by-redrive', cause: 'auth' });
    expect(decideFailure(new UpstreamContractError('metadata response is not JSON'), { receiveCount: 1 })).toEqual({
      kind: 'dead-letter-by-redrive',
      cause: 'permanent',
    });
    expect(decideFailure(http(400, false), { receiveCount: 1 })).toEqual({
      kind: 'dead-letter-by-redrive',
      cause: 'permanent',
    });
  });

  it('waits at least until a held claim can have ended, rounded up to whole seconds', () => {
    expect(decideFailure(new ClaimHeldError(1_001), { receiveCount: 1 })).toEqual({
      kind: 'requeue-after',
      cause: 'claim-held',
      delaySeconds: 2,
      deferral: 1,
    });
  });

  it('names the cause of a backoff, for the logs and metrics', () => {
    expect(decideFailure(new IntegrityError('size', '1', '2'), { receiveCount: 1 })).toMatchObject({
      cause: 'integrity',
    });
    expect(decideFailure(new DeadlineError(), { receiveCount: 1 })).toMatchObject({ cause: 'deadline' });
    expect(decideFailure('a string', { receiveCount: 1 })).toMatchObject({ cause: 'transient' });
  });
});

describe('the 404 and its size: one rule, here', () => {
  it('a 404 is expired when the metadata published no size, not found when it did or was not read', () => {
    const outcome = (publishedSizeBytes?: number | null) =>
      decideFailure(http(404, false), {
        receiveCount: 1,
        ...(publishedSizeBytes !== undefined ? { publishedSizeBytes } : {}),
      });
    expect(outcome(null)).toEqual({ kind: 'record-outcome', status: 'unavailable', reason: 'expired' });
    expect(outcome(0)).toEqual({ kind: 'record-outcome', status: 'unavailable', reason: 'not_found' });
    expect(outcome(2048)).toEqual({ kind: 'record-outcome', status: 'unavailable', reason: 'not_found' });
    expect(outcome()).toEqual({ kind: 'record-outcome', status: 'unavailable', reason: 'not_found' });
  });
});

describe('isTransientFailure (the backfill retries what it says)', () => {
  it('is true for a retryable status (a 429 too), a transport failure, a budget wait and a refused enqueue', () => {
    expect(isTransientFailure(http(503, true))).toBe(true);
    expect(
      isTransientFailure(
        new UpstreamRateLimitedError(429, 'rate_limit_error', 'r', { retryable: true, retryAfterMs: 1 }),
      ),
    ).toBe(true);
    expect(isTransientFailure(new UpstreamTransportError('socket hang up', 'ECONNRESET'))).toBe(true);
    expect(isTransientFailure(new BudgetExhaustedError('compliance', 400))).toBe(true);
    expect(isTransientFailure(new EnqueueFailedError(2))).toBe(true);
  });

  it('is false for what retrying cannot fix', () => {
    expect(isTransientFailure(http(400, false))).toBe(false);
    expect(isTransientFailure(refused(500))).toBe(false);
    expect(isTransientFailure(new UpstreamAuthError(401, 'authentication_error', 'r', { retryable: false }))).toBe(
      false,
    );
    expect(isTransientFailure(new Error('bug'))).toBe(false);
  });
});

describe('toQueueActions', () => {
  it('keeps a visibility change within what SQS accepts', () => {
    expect(
      toQueueActions({ kind: 'requeue-after', cause: 'rate-limited', delaySeconds: 86_400, deferral: null }),
    ).toEqual({ ack: false, changeVisibilitySeconds: MAX_VISIBILITY_SECONDS });
    expect(toQueueActions({ kind: 'requeue-after', cause: 'claim-held', delaySeconds: -5, deferral: null })).toEqual({
      ack: false,
      changeVisibilitySeconds: 0,
    });
  });

  it('keeps the delay of a deferred copy within what SQS accepts (at most 900 s)', () => {
    expect(toQueueActions({ kind: 'requeue-after', cause: 'rate-limited', delaySeconds: 3_600, deferral: 4 })).toEqual({
      ack: true,
      sendDelayedCopy: { delaySeconds: 900, deferrals: 4 },
    });
    expect(toQueueActions({ kind: 'requeue-after', cause: 'claim-held', delaySeconds: -1, deferral: 1 })).toEqual({
      ack: true,
      sendDelayedCopy: { delaySeconds: 0, deferrals: 1 },
    });
  });
});

describe('queueRetryDelaySeconds', () => {
  it('spreads queue retries from 30 s doubling to a 15 minute cap', () => {
    expect([1, 2, 3, 5, 6, 50].map(queueRetryDelaySeconds)).toEqual([30, 60, 120, 480, 900, 900]);
  });
});
