import { describe, expect, it } from 'vitest';
import { serializeJob } from '../../shared/contracts/job.js';
import { METRIC } from '../../shared/contracts/metric-names.js';
import { objectKeyFor } from '../../shared/contracts/object-keys.js';
import { parseDeferrals } from '../../shared/ingest/ingest-queue.js';
import type { IngestMessage } from '../../shared/ingest/ingest-queue.js';
import { MAX_DEFERRALS } from '../../shared/ingest/failure-decision.js';
import { processIngestMessage } from '../../shared/ingest/process-message.js';
import {
  BudgetExhaustedError,
  DeadlineError,
  UpstreamAuthError,
  UpstreamHttpError,
  UpstreamRateLimitedError,
} from '../../shared/platform/errors.js';
import { ingestHarness, NOW_MS } from './fakes/ingest-harness.js';
import { QUEUE_PHRASES, readFailureTable } from '../support/doc-failures.js';
import { generatedFile } from './fakes/scripted-upstream.js';

const GEN = 'claude_gen_file_01Unit';
const FILES_API = 'file_01Unit';
const CHAT = 'claude_chat_01Unit';
const CONTENT = Buffer.from('quarter,revenue\nq3,1350000\n');
/** The metrics that tell failures apart (the failure table's metric column). */
const FAILURE_METRICS: string[] = [
  METRIC.upstreamThrottled,
  METRIC.upstreamAuthFailures,
  METRIC.integrityFailures,
  METRIC.finalOutcomes,
  METRIC.malformedJobs,
];

function message(body: string, receiveCount = 1, deferrals = 0): IngestMessage {
  return { messageId: 'msg-1', body, receiptHandle: 'rh-1', receiveCount, deferrals };
}

type Harness = ReturnType<typeof ingestHarness>;

interface Scenario {
  /** Sets the harness up for the failure; returns the message to deliver. */
  arrange(h: Harness): IngestMessage;
  /** The visibility the failure table's delay phrases come to for this scenario, in seconds. */
  visibilitySeconds?: number;
}

const job = serializeJob({ fileId: GEN });

/** One scenario per row of the failure table in docs/failures.md, run through the real use case over fakes. */
const SCENARIOS: Record<string, Scenario> = {
  '5xx, 529, 408, 409, connection failure, timeout, body broken mid-stream, with attempts left': {
    arrange(h) {
      h.upstream.add(generatedFile(GEN, CONTENT));
      h.upstream.fail(GEN, 'metadata', new UpstreamHttpError(503, 'overloaded_error', 'req_503', { retryable: true }));
      return message(job);
    },
  },
  'the same once `UPSTREAM_MAX_ATTEMPTS` (default 3) attempts are spent': {
    arrange(h) {
      const err = () => new UpstreamHttpError(529, 'overloaded_error', 'req_529', { retryable: true });
      h.upstream.add(generatedFile(GEN, CONTENT));
      h.upstream.fail(GEN, 'content', err(), err(), err());
      return message(job, 2);
    },
    visibilitySeconds: 60,
  },
  '429': {
    arrange(h) {
      h.upstream.fail(
        GEN,
        'metadata',
        new UpstreamRateLimitedError(429, 'rate_limit_error', 'req_429', { retryable: true, retryAfterMs: 7_000 }),
      );
      return message(job, 1, 2);
    },
    visibilitySeconds: 7,
  },
  "another delivery holds the file's claim": {
    arrange(h) {
      void h.index.claim(GEN, 'generated', 'another-delivery', NOW_MS - 1_000, 46_000);
      return message(job);
    },
    visibilitySeconds: 45,
  },
  'no grant from the shared request budget within `BUDGET_MAX_WAIT_MS` (default 20 s)': {
    arrange(h) {
      h.upstream.fail(GEN, 'metadata', new BudgetExhaustedError('compliance', 2_500));
      return message(job, 1, 7);
    },
    visibilitySeconds: 3,
  },
  'any of these three waits once the job has been deferred 100 times (`MAX_DEFERRALS`)': {
    arrange(h) {
      h.upstream.fail(
        GEN,
        'metadata',
        new UpstreamRateLimitedError(429, 'rate_limit_error', 'req_429', { retryable: true, retryAfterMs: 7_000 }),
      );
      return message(job, 1, MAX_DEFERRALS);
    },
    visibilitySeconds: 7,
  },
  '404 for a file with a published size (deleted)': {
    arrange: () => message(serializeJob({ fileId: GEN, chatId: CHAT })),
  },
  '404 for a file whose `size_bytes` is null (expired)': {
    arrange(h) {
      h.upstream.add(generatedFile(GEN, CONTENT, { sizeBytes: null }));
      h.upstream.fail(GEN, 'content', new UpstreamHttpError(404, 'not_found_error', 'req_404', { retryable: false }));
      return message(job);
    },
  },
  'Files API file not downloadable': {
    arrange(h) {
      h.upstream.add(
        generatedFile(FILES_API, CONTENT, { source: 'files_api', chatIds: [], md5Hex: null, downloadable: false }),
      );
      return message(serializeJob({ fileId: FILES_API }));
    },
  },
  '`x-should-retry: false` with any status but 404 (429, 401 and 403 included)': {
    arrange(h) {
      h.upstream.fail(
        GEN,
        'metadata',
        new UpstreamHttpError(500, 'api_error', 'req_500', { retryable: false, shouldRetry: false }),
      );
      return message(job);
    },
  },
  'no `size_bytes`, and more than `UNSIZED_MAX_MIB` (default 500) served': {
    arrange(h) {
      h.upstream.add(generatedFile(GEN, CONTENT, { sizeBytes: null }));
      h.archive.maxUnsizedBytes = CONTENT.length - 1;
      return message(job);
    },
  },
  '401 / 403 without `x-should-retry`': {
    arrange(h) {
      h.upstream.fail(
        GEN,
        'metadata',
        new UpstreamAuthError(401, 'authentication_error', 'req_401', { retryable: false }),
      );
      return message(job);
    },
  },
  'another 4xx (400, 413, …), metadata not in the documented shape': {
    arrange(h) {
      h.upstream.fail(
        GEN,
        'metadata',
        new UpstreamHttpError(400, 'invalid_request_error', 'req_400', { retryable: false }),
      );
      return message(job);
    },
  },
  'size mismatch, or bytes that do not match `Content-MD5` (the metadata `md5` when that header is absent)': {
    arrange(h) {
      h.upstream.add({ ...generatedFile(GEN, CONTENT), contentMd5: 'AAAAAAAAAAAAAAAAAAAAAA==' });
      return message(job, 4);
    },
    visibilitySeconds: 240,
  },
  "the Lambda's remaining time runs out": {
    arrange(h) {
      h.upstream.fail(GEN, 'metadata', new DeadlineError());
      return message(job);
    },
    visibilitySeconds: 30,
  },
  'any other error (S3, DynamoDB)': {
    arrange(h) {
      h.upstream.add(generatedFile(GEN, CONTENT));
      h.store.failNextWrite = Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' });
      return message(job);
    },
    visibilitySeconds: 30,
  },
  'a body that is not JSON or not a valid job': { arrange: () => message('{"fileId":') },
};

describe('the failure table in docs/failures.md, through the ingest use case', () => {
  const table = readFailureTable();

  it('has a scenario for every row and a row for every scenario', () => {
    expect(table.map((r) => r.failure).sort()).toEqual(Object.keys(SCENARIOS).sort());
  });

  it.each(table.map((r) => [r.failure, r] as const))('%s', async (_failure, documented) => {
    const scenario = SCENARIOS[documented.failure];
    if (!scenario) throw new Error('no such scenario');
    const h = ingestHarness();
    const msg = scenario.arrange(h);
    const acked = await processIngestMessage(msg, new AbortController().signal, h.deps).then(
      () => true,
      () => false,
    );

    const decisions = h.logs.map((l) => l.attributes['decision']).filter((d) => d !== undefined);
    expect(decisions.at(-1)).toBe(documented.decision);
    const failureMetrics = h.metrics.map((m) => m.name).filter((n) => FAILURE_METRICS.includes(n));
    expect(failureMetrics).toEqual(documented.metric ? [documented.metric] : []);

    const visibility = h.queue.visibilityChanges.map((v) => v.seconds);
    const deadLettered = h.queue.deadLetters.map((d) => d.messageId);
    const copies = h.queue.delayedCopies.map((c) => ({ delaySeconds: c.delaySeconds, deferrals: c.deferrals }));
    if (documented.queue !== QUEUE_PHRASES.deferCopy) expect(copies).toEqual([]);
    switch (documented.queue) {
      case QUEUE_PHRASES.inProcess:
        expect({ visibility, deadLettered, sleeps: h.sleeps.length }).toEqual({
          visibility: [],
          deadLettered: [],
          sleeps: 1,
        });
        break;
      case QUEUE_PHRASES.delay:
      case QUEUE_PHRASES.backoff:
        expect({ acked, visibility, deadLettered }).toEqual({
          acked: false,
          visibility: [scenario.visibilitySeconds],
          deadLettered: [],
        });
        break;
      case QUEUE_PHRASES.deferCopy:
        expect({ acked, visibility, deadLettered, copies }).toEqual({
          acked: true,
          visibility: [],
          deadLettered: [],
          copies: [{ delaySeconds: scenario.visibilitySeconds, deferrals: msg.deferrals + 1 }],
        });
        expect(h.queue.delayedCopies[0]?.body).toBe(msg.body);
        break;
      case QUEUE_PHRASES.ack:
        expect({ acked, visibility, deadLettered }).toEqual({ acked: true, visibility: [], deadLettered: [] });
        break;
      case QUEUE_PHRASES.redrive:
        expect({ acked, visibility, deadLettered }).toEqual({ acked: false, visibility: [], deadLettered: [] });
        break;
      case QUEUE_PHRASES.deadLetterNow:
        expect({ acked, visibility, deadLettered }).toEqual({
          acked: true,
          visibility: [],
          deadLettered: [msg.messageId],
        });
        expect(h.queue.deadLetters[0]?.reason).toMatch(/^body is not valid JSON$|^not a valid job/);
        break;
      default:
        throw new Error(`docs/failures.md names queue actions this test does not know: ${documented.queue}`);
    }
  });
});

describe('processIngestMessage', () => {
  it('acknowledges an archived file and counts its bytes', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT));
    await processIngestMessage(message(job), new AbortController().signal, h.deps);
    expect(
      h.metrics.filter((m) => m.name === METRIC.filesArchived || m.name === METRIC.bytesArchived).map((m) => m.value),
    ).toEqual([1, CONTENT.length]);
    expect(h.logs.find((l) => l.attributes['outcome'] === 'archived')?.attributes).toMatchObject({
      messageId: 'msg-1',
      fileId: GEN,
      source: 'generated',
    });
  });

  it(
    "reports the capture latency of a job that carries its file's " + 'appearance upstream, once, on first archiving',
    async () => {
      const h = ingestHarness();
      h.upstream.add(generatedFile(GEN, CONTENT));
      const appeared = serializeJob({ fileId: GEN, appearedAt: new Date(NOW_MS - 42_000).toISOString() });
      await processIngestMessage(message(appeared), new AbortController().signal, h.deps);
      // A duplicate delivery says nothing about capture.
      await processIngestMessage(message(appeared), new AbortController().signal, h.deps);
      expect(h.metrics.filter((m) => m.name === METRIC.captureLatency).map((m) => m.value)).toEqual([42_000]);
    },
  );

  it('reports no capture latency for a job without an appearance time (the CLI, the webhook, a backfill)', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT));
    await processIngestMessage(message(job), new AbortController().signal, h.deps);
    expect(h.metrics.filter((m) => m.name === METRIC.filesArchived)).toHaveLength(1);
    expect(h.metrics.filter((m) => m.name === METRIC.captureLatency)).toEqual([]);
  });

  it('acknowledges a duplicate delivery without downloading again', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT));
    await processIngestMessage(message(job), new AbortController().signal, h.deps);
    await processIngestMessage(message(job), new AbortController().signal, h.deps);
    expect(h.upstream.requests(GEN, 'content')).toBe(1);
    expect(h.metrics.filter((m) => m.name === METRIC.duplicateDeliveries)).toHaveLength(1);
  });

  it('leaves a malformed job in the queue when it cannot be copied to the DLQ, to reject it next time', async () => {
    const h = ingestHarness();
    h.queue.failNext = Object.assign(new Error('queue unavailable'), { name: 'QueueDoesNotExist' });
    await expect(processIngestMessage(message('[]'), new AbortController().signal, h.deps)).rejects.toThrow(
      'queue unavailable',
    );
    expect(h.metrics).toEqual([]);
  });

  it('reports a failure when the visibility change fails: the queue timeout brings the message back', async () => {
    const h = ingestHarness();
    h.upstream.fail(GEN, 'metadata', new UpstreamRateLimitedError(429, undefined, undefined, { retryable: true }));
    h.queue.failNext = new Error('throttled');
    await expect(
      processIngestMessage(message(job, 1, MAX_DEFERRALS), new AbortController().signal, h.deps),
    ).rejects.toBeInstanceOf(UpstreamRateLimitedError);
    expect(h.logs.some((l) => l.message === 'could not change the message visibility')).toBe(true);
  });

  it('lets the message wait when its delayed copy cannot be sent: not acknowledged, hidden for the delay', async () => {
    const h = ingestHarness();
    h.upstream.fail(
      GEN,
      'metadata',
      new UpstreamRateLimitedError(429, 'rate_limit_error', 'req_429', { retryable: true, retryAfterMs: 30_000 }),
    );
    h.queue.failNext = new Error('throttled');
    await expect(processIngestMessage(message(job), new AbortController().signal, h.deps)).rejects.toBeInstanceOf(
      UpstreamRateLimitedError,
    );
    expect(h.queue.delayedCopies).toEqual([]);
    expect(h.queue.visibilityChanges).toEqual([{ receiptHandle: 'rh-1', seconds: 30 }]);
  });

  it('copies the body and the reason of a malformed job to the DLQ', async () => {
    const h = ingestHarness();
    await processIngestMessage(
      message(JSON.stringify({ fileId: 'claude_gen_file_x', extra: 1 })),
      new AbortController().signal,
      h.deps,
    );
    expect(h.queue.deadLetters).toEqual([
      {
        messageId: 'msg-1',
        body: '{"fileId":"claude_gen_file_x","extra":1}',
        reason: expect.stringContaining('not a valid job'),
      },
    ]);
    expect(h.store.commits(objectKeyFor('generated', 'claude_gen_file_x'))).toBe(0);
  });
});

describe('parseDeferrals', () => {
  it('reads the deferrals attribute as a whole number from 0, and anything else as 0', () => {
    expect(['3', ' 20 ', '0', undefined, '', '-1', '1.5', '1e3', 'x', '9999999999'].map(parseDeferrals)).toEqual([
      3, 20, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
  });
});
