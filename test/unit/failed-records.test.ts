import { describe, expect, it } from 'vitest';
import { serializeJob } from '../../shared/contracts/job.js';
import { METRIC } from '../../shared/contracts/metric-names.js';
import { MAX_DEFERRALS } from '../../shared/ingest/failure-decision.js';
import type { IngestMessage } from '../../shared/ingest/ingest-queue.js';
import { processIngestMessage } from '../../shared/ingest/process-message.js';
import { UpstreamAuthError, UpstreamHttpError, UpstreamRateLimitedError } from '../../shared/platform/errors.js';
import { ingestHarness, NOW_MS } from './fakes/ingest-harness.js';
import { generatedFile } from './fakes/scripted-upstream.js';

const GEN = 'claude_gen_file_01Failed';
const CHAT = 'claude_chat_01Failed';
const CONTENT = Buffer.from('a,b\n1,2\n');
const job = serializeJob({ fileId: GEN, chatId: CHAT });
const MAX_RECEIVES = 5;

type Harness = ReturnType<typeof ingestHarness>;

function message(receiveCount = 1, deferrals = 0, body = job): IngestMessage {
  return { messageId: 'msg-1', body, receiptHandle: 'rh-1', receiveCount, deferrals };
}

/** Resolves true when the message was acknowledged, false when it was left in the queue. */
function process(h: Harness, msg: IngestMessage): Promise<boolean> {
  return processIngestMessage(msg, new AbortController().signal, h.deps).then(
    () => true,
    () => false,
  );
}

describe('x-should-retry: false is final (D7)', () => {
  it('records the file failed with the error type, status and request id, and acknowledges at once', async () => {
    const h = ingestHarness({ maxReceiveCount: MAX_RECEIVES });
    h.upstream.add(generatedFile(GEN, CONTENT, { chatIds: [CHAT] }));
    h.upstream.fail(
      GEN,
      'content',
      new UpstreamHttpError(500, 'api_error', 'req_final', { retryable: false, shouldRetry: false }),
    );

    expect(await process(h, message())).toBe(true);

    expect(h.upstream.requests(GEN, 'content')).toBe(1);
    const failed = {
      status: 'failed',
      reason: 'not_retryable',
      upstreamErrorType: 'api_error',
      upstreamStatus: 500,
      upstreamRequestId: 'req_final',
      detail: expect.stringContaining('500'),
      filename: 'report.csv',
    };
    expect(await h.index.get(GEN)).toMatchObject(failed);
    expect((await h.index.listChat(CHAT, 10, undefined)).items).toMatchObject([failed]);
    expect(h.metrics.filter((m) => m.name === METRIC.finalOutcomes)).toEqual([
      { name: METRIC.finalOutcomes, value: 1, dimension: { name: 'reason', value: 'not_retryable' } },
    ]);
    expect(h.logs.find((l) => l.attributes['outcome'] === 'failed')?.attributes).toMatchObject({
      upstreamRequestId: 'req_final',
      upstreamErrorType: 'api_error',
    });
    expect(h.queue.visibilityChanges).toEqual([]);
  });

  it('still counts an auth failure for its alarm when upstream calls a 401 or 403 final', async () => {
    const h = ingestHarness();
    h.upstream.fail(
      GEN,
      'metadata',
      new UpstreamAuthError(403, 'permission_error', 'req_403', { retryable: false, shouldRetry: false }),
    );
    expect(await process(h, message())).toBe(true);
    expect(await h.index.get(GEN)).toMatchObject({ status: 'failed', reason: 'not_retryable', upstreamStatus: 403 });
    expect(h.metrics.filter((m) => m.name === METRIC.upstreamAuthFailures)).toHaveLength(1);
  });

  it('takes a 429 with x-should-retry: false as final too: no deferral', async () => {
    const h = ingestHarness();
    h.upstream.fail(
      GEN,
      'metadata',
      new UpstreamRateLimitedError(429, 'rate_limit_error', 'req_429', {
        retryable: false,
        shouldRetry: false,
        retryAfterMs: 1_000,
      }),
    );
    expect(await process(h, message())).toBe(true);
    expect(h.queue.delayedCopies).toEqual([]);
    expect(await h.index.get(GEN)).toMatchObject({ status: 'failed', reason: 'not_retryable', upstreamStatus: 429 });
    expect(h.metrics.filter((m) => m.name === METRIC.upstreamThrottled)).toHaveLength(1);
  });
});

describe('a job on its last receive records its file failed (D8)', () => {
  it(
    'records the last error and the last upstream request id, and ' +
      'lists the file, when the job is left for the DLQ',
    async () => {
      const h = ingestHarness({ maxReceiveCount: MAX_RECEIVES });
      h.upstream.add(generatedFile(GEN, CONTENT, { chatIds: [CHAT] }));
      h.store.failNextWrite = Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' });

      expect(await process(h, message(MAX_RECEIVES))).toBe(false);

      const failed = {
        status: 'failed',
        reason: 'dead_lettered',
        detail: 'InternalError',
        upstreamRequestId: 'req_content',
        upstreamStatus: null,
        chatIds: [CHAT],
      };
      expect(await h.index.get(GEN)).toMatchObject(failed);
      expect((await h.index.listChat(CHAT, 10, undefined)).items).toMatchObject([failed]);
      expect(h.logs.find((l) => l.attributes['outcome'] === 'dead-lettered')?.attributes).toMatchObject({
        receiveCount: 5,
        maxReceiveCount: 5,
        upstreamRequestId: 'req_content',
      });
    },
  );

  it('keeps the upstream error of a job dead-lettered by redrive (401)', async () => {
    const h = ingestHarness({ maxReceiveCount: 3 });
    h.upstream.fail(
      GEN,
      'metadata',
      new UpstreamAuthError(401, 'authentication_error', 'req_401', { retryable: false }),
    );
    expect(await process(h, message(3))).toBe(false);
    expect(await h.index.get(GEN)).toMatchObject({
      status: 'failed',
      reason: 'dead_lettered',
      upstreamStatus: 401,
      upstreamErrorType: 'authentication_error',
      upstreamRequestId: 'req_401',
    });
  });

  it('leaves the file pending before the last receive', async () => {
    const h = ingestHarness({ maxReceiveCount: MAX_RECEIVES });
    h.upstream.fail(
      GEN,
      'metadata',
      new UpstreamAuthError(401, 'authentication_error', 'req_401', { retryable: false }),
    );
    expect(await process(h, message(MAX_RECEIVES - 1))).toBe(false);
    expect(await h.index.get(GEN)).toMatchObject({ status: 'pending', lastUpstreamRequestId: 'req_401' });
  });

  it('leaves a file another delivery holds alone, even on the last receive', async () => {
    const h = ingestHarness({ maxReceiveCount: MAX_RECEIVES });
    await h.index.claim(GEN, 'generated', 'another-delivery', NOW_MS, 60_000);
    expect(await process(h, message(MAX_RECEIVES, MAX_DEFERRALS))).toBe(false);
    expect(await h.index.get(GEN)).toMatchObject({ status: 'pending' });
  });

  it('makes a dead-lettered file pending again when a redrive claims it, and archives it', async () => {
    const h = ingestHarness({ maxReceiveCount: MAX_RECEIVES });
    h.upstream.add(generatedFile(GEN, CONTENT, { chatIds: [CHAT] }));
    h.store.failNextWrite = new Error('boom');
    await process(h, message(MAX_RECEIVES));
    expect(await h.index.get(GEN)).toMatchObject({ status: 'failed' });

    expect(await h.index.claim(GEN, 'generated', 'redrive', NOW_MS, 1_000)).toMatchObject({ kind: 'claimed' });
    const reopened = await h.index.get(GEN);
    expect(reopened).toMatchObject({ status: 'pending' });
    for (const stale of ['reason', 'detail', 'failedAt', 'upstreamStatus']) expect(reopened).not.toHaveProperty(stale);
    expect((await h.index.listChat(CHAT, 10, undefined)).items).toMatchObject([{ status: 'pending' }]);
    await h.index.release(GEN, 'redrive', { error: 'handed back by the test', upstreamRequestId: null });

    expect(await process(h, message(1))).toBe(true);
    expect(await h.index.get(GEN)).toMatchObject({ status: 'archived' });
    expect((await h.index.listChat(CHAT, 10, undefined)).items).toMatchObject([{ status: 'archived' }]);
  });

  it('records nothing for a malformed job: it has no file', async () => {
    const h = ingestHarness({ maxReceiveCount: 1 });
    expect(await process(h, message(1, 0, '{"fileId":'))).toBe(true);
    expect(h.index.items.size).toBe(0);
  });
});
