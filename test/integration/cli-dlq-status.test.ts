import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLLER_SOURCES } from '../../shared/contracts/discovery-ledger.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { DynamoDbDiscoveryStore } from '../../shared/index/dynamodb-discovery-store.js';
import { deadLetteredRecord } from '../../shared/ingest/final-outcome.js';
import { UpstreamHttpError } from '../../shared/platform/errors.js';
import { createCliStack } from '../support/cli-stack.js';
import type { CliStack } from '../support/cli-stack.js';
import { generatedFileFactory } from '../support/upstream.js';

// Dead letters and the status report against the local stack: what an operator sees, what redrive
// does to the queue and to the index, and the exit codes scripts branch on.
// One file whose job exhausted its receives: the ingest handler recorded it `failed`
// (`dead_lettered`) as the job left for the DLQ. One whose record is still pending with a last error
// (the dead-letter write lost to a duplicate delivery's lease, say).
const failing = generatedFileFactory({ filename: 'failed-before.txt', content: Buffer.from('retry me\n') });
const stillPending = generatedFileFactory({ filename: 'pending-before.txt', content: Buffer.from('retry me too\n') });
const lastError = 'UpstreamHttpError: upstream answered 500 (api_error)';
const malformedReason = 'not a valid job: fileId: Invalid string';

let stack: CliStack;
let malformedId: string;
let validId: string;
let pendingId: string;
let deadLetteredDetail: string;

beforeAll(async () => {
  stack = await createCliStack({ files: [failing, stillPending] });
  const job = { v: 1 as const, fileId: failing.id, chatId: failing.chatId };
  const dead = await stack.files.markDeadLettered(
    deadLetteredRecord(
      job,
      'generated',
      new UpstreamHttpError(500, 'api_error', 'req_018EeWyXxfu5pfWkrYcMdjWG', { retryable: true }),
      Date.now(),
    ),
    Date.now(),
  );
  expect(dead?.status).toBe('failed');
  deadLetteredDetail = dead?.status === 'failed' ? dead.detail : '';
  validId =
    (
      await stack.aws.sqs.send(
        new SendMessageCommand({ QueueUrl: stack.queues.dlqUrl, MessageBody: serializeJob(job) }),
      )
    ).MessageId ?? '';
  const claim = await stack.files.claim(stillPending.id, 'generated', 'delivery-1', Date.now(), 60_000);
  expect(claim.kind).toBe('claimed');
  await stack.files.release(stillPending.id, 'delivery-1', { error: lastError, upstreamRequestId: null });
  pendingId =
    (
      await stack.aws.sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.queues.dlqUrl,
          MessageBody: serializeJob({ fileId: stillPending.id }),
        }),
      )
    ).MessageId ?? '';
  // A body the ingest handler rejected at once, as it does: with a rejectReason attribute.
  malformedId =
    (
      await stack.aws.sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.queues.dlqUrl,
          MessageBody: '{"v":1,"fileId":"not-an-id"}',
          MessageAttributes: { rejectReason: { DataType: 'String', StringValue: malformedReason } },
        }),
      )
    ).MessageId ?? '';
  // Healthy pollers, so that the dead letters are the only problem status finds.
  const store = new DynamoDbDiscoveryStore(stack.aws.ddb, stack.table);
  for (const source of POLLER_SOURCES) {
    const lease = await store.acquireLease(source, 'test-run', Date.now(), 60_000);
    if (!lease) throw new Error('no lease');
    await store.putCheckpoint(source, { cursor: null, lastCompletedAt: new Date().toISOString() }, lease);
    await store.releaseLease(source, lease);
  }
});

afterAll(async () => {
  await stack.close();
});

describe('archiver dlq and status', () => {
  it('status counts the failed and the failing file and the dead letters, and exits 3', async () => {
    const res = await stack.run(['status', '--json']);
    expect(res.code).toBe(3);
    const report = JSON.parse(res.stdout) as {
      deadLetterQueue: { visible: number };
      files: { failed: Record<string, number>; failing: Record<string, number>; pending: number };
      pollers: { healthy: boolean }[];
      problems: string[];
    };
    expect(report.deadLetterQueue.visible).toBe(3);
    expect(report.files.failed).toEqual({ dead_lettered: 1 });
    expect(report.files.failing).toEqual({ UpstreamHttpError: 1 });
    expect(report.files.pending).toBe(0);
    expect(report.pollers.every((p) => p.healthy)).toBe(true);
    expect(report.problems).toEqual([
      '3 dead letter(s): see "archiver dlq list"',
      '1 file(s) failed: "archiver dlq redrive" retries the dead-lettered ones, "archiver enqueue <fileId>" any other',
    ]);
    expect(res.stderr.trim()).toBe('archiver: found 2 problem(s)');
    const table = await stack.run(['status']);
    expect(table.stdout).toMatch(/FAILED: dead_lettered\s*│\s*1/);
  });

  it('dlq list shows each dead letter with its reason and leaves it in the queue', async () => {
    const res = await stack.run(['dlq', 'list', '--json']);
    expect(res.code).toBe(0);
    const { deadLetters } = JSON.parse(res.stdout) as {
      deadLetters: { messageId: string; fileId: string | null; reason: string; recordStatus: string | null }[];
    };
    expect(deadLetters).toHaveLength(3);
    expect(deadLetters.find((d) => d.messageId === malformedId)).toMatchObject({
      fileId: null,
      reason: malformedReason,
    });
    expect(deadLetters.find((d) => d.messageId === validId)).toMatchObject({
      fileId: failing.id,
      reason: `dead_lettered: ${deadLetteredDetail}`,
      recordStatus: 'failed',
    });
    expect(deadLetteredDetail).toContain('500');
    expect(deadLetters.find((d) => d.messageId === pendingId)).toMatchObject({
      fileId: stillPending.id,
      reason: lastError,
      recordStatus: 'pending',
    });
    // Listing handed them back at once: a second listing sees them all again.
    const again = await stack.run(['dlq', 'list']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(malformedId);
    expect(again.stdout).toContain(validId);
    expect(again.stdout).toContain(pendingId);
  });

  it('dlq redrive of an unknown message id exits 1 and sends nothing', async () => {
    const res = await stack.run(['dlq', 'redrive', '00000000-0000-4000-8000-000000000000']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('archiver: not in the dead-letter queue: 00000000-0000-4000-8000-000000000000');
    expect((await stack.files.get(failing.id))?.status).toBe('failed');
    expect((await stack.files.get(stillPending.id))?.status).toBe('pending');
  });

  it(
    'dlq redrive --all resets the failed and the pending record, ' +
      'sends the jobs back (both get archived) and leaves the malformed ' +
      'body, exit 3',
    async () => {
      const res = await stack.run(['dlq', 'redrive', '--all', '--json']);
      expect(res.code).toBe(3);
      const { outcomes } = JSON.parse(res.stdout) as {
        outcomes: { messageId: string; result: string; record?: string }[];
      };
      expect(outcomes).toEqual(
        expect.arrayContaining([
          { messageId: validId, fileId: failing.id, result: 'redriven', record: 'reset' },
          { messageId: pendingId, fileId: stillPending.id, result: 'redriven', record: 'reset' },
          { messageId: malformedId, fileId: null, result: 'left', reason: malformedReason },
        ]),
      );
      expect(res.stderr).toContain('not valid jobs and were left');
      for (const file of [failing, stillPending]) {
        const record = await stack.waitForFinal(file.id);
        expect(record.status).toBe('archived');
        // The record started afresh: the failed attempts before the redrive are not counted, and no
        // field of the failure is left beside the archived copy.
        expect(record).toMatchObject({ attempts: 1 });
        for (const stale of ['lastError', 'failedAt', 'detail', 'reason', 'upstreamErrorType', 'upstreamStatus'])
          expect(record).not.toHaveProperty(stale);
      }
      // The chat listing of the dead-lettered file shows the archived copy, not the failure.
      const listed = await stack.files.listChat(failing.chatId, 10, undefined);
      expect(listed.items.map((r) => [r.fileId, r.status])).toEqual([[failing.id, 'archived']]);
      const list = await stack.run(['dlq', 'list', '--json']);
      const { deadLetters } = JSON.parse(list.stdout) as { deadLetters: { messageId: string }[] };
      expect(deadLetters.map((d) => d.messageId)).toEqual([malformedId]);
    },
  );

  it('dlq redrive needs --all or ids (exit 2)', async () => {
    const res = await stack.run(['dlq', 'redrive']);
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe('archiver: give --all or the message ids to redrive (see "archiver dlq list")');
  });
});
