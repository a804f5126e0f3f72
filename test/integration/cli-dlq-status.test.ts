import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLLER_SOURCES } from '../../shared/contracts/discovery-ledger.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { DynamoDbDiscoveryStore } from '../../shared/discovery/dynamodb-discovery-store.js';
import { createCliStack } from '../support/cli-stack.js';
import type { CliStack } from '../support/cli-stack.js';
import { generatedFileFactory } from '../support/upstream.js';

// Dead letters and the status report against the local stack: what an operator sees, what redrive
// does to the queue and to the index, and the exit codes scripts branch on.
const failing = generatedFileFactory({ filename: 'failed-before.txt', content: Buffer.from('retry me\n') });
const lastError = 'UpstreamHttpError: upstream answered 500 (api_error)';
const malformedReason = 'not a valid job: fileId: Invalid string';

let stack: CliStack;
let malformedId: string;
let validId: string;

beforeAll(async () => {
  stack = await createCliStack({ files: [failing] });
  // A file whose deliveries failed until its job reached the DLQ: pending, with attempts and a last error.
  const claim = await stack.files.claim(failing.id, 'generated', 'delivery-1', Date.now(), 60_000);
  expect(claim.kind).toBe('claimed');
  await stack.files.release(failing.id, 'delivery-1', { error: lastError, upstreamRequestId: null });
  validId = (await stack.aws.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.dlqUrl, MessageBody: serializeJob({ fileId: failing.id }) }))).MessageId ?? '';
  // A body the ingest handler rejected at once, as it does: with a rejectReason attribute.
  malformedId = (
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
  it('status counts the failing file and the dead letters, and exits 3', async () => {
    const res = await stack.run(['status', '--json']);
    expect(res.code).toBe(3);
    const report = JSON.parse(res.stdout) as { deadLetterQueue: { visible: number }; files: { failing: Record<string, number> }; pollers: { healthy: boolean }[]; problems: string[] };
    expect(report.deadLetterQueue.visible).toBe(2);
    expect(report.files.failing).toEqual({ UpstreamHttpError: 1 });
    expect(report.pollers.every((p) => p.healthy)).toBe(true);
    expect(report.problems).toEqual(['2 dead letter(s): see "archiver dlq list"']);
    expect(res.stderr.trim()).toBe('archiver: found 1 problem(s)');
  });

  it('dlq list shows each dead letter with its reason and leaves it in the queue', async () => {
    const res = await stack.run(['dlq', 'list', '--json']);
    expect(res.code).toBe(0);
    const { deadLetters } = JSON.parse(res.stdout) as { deadLetters: { messageId: string; fileId: string | null; reason: string; recordStatus: string | null }[] };
    expect(deadLetters).toHaveLength(2);
    expect(deadLetters.find((d) => d.messageId === malformedId)).toMatchObject({ fileId: null, reason: malformedReason });
    expect(deadLetters.find((d) => d.messageId === validId)).toMatchObject({ fileId: failing.id, reason: lastError, recordStatus: 'pending' });
    // Listing handed them back at once: a second listing sees both again.
    const again = await stack.run(['dlq', 'list']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(malformedId);
    expect(again.stdout).toContain(validId);
  });

  it('dlq redrive of an unknown message id exits 1 and sends nothing', async () => {
    const res = await stack.run(['dlq', 'redrive', '00000000-0000-4000-8000-000000000000']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('archiver: not in the dead-letter queue: 00000000-0000-4000-8000-000000000000');
    expect((await stack.files.get(failing.id))?.status).toBe('pending');
  });

  it('dlq redrive --all resets the record, sends the job back (it gets archived) and leaves the malformed body, exit 3', async () => {
    const res = await stack.run(['dlq', 'redrive', '--all', '--json']);
    expect(res.code).toBe(3);
    const { outcomes } = JSON.parse(res.stdout) as { outcomes: { messageId: string; result: string; record?: string }[] };
    expect(outcomes).toEqual(
      expect.arrayContaining([
        { messageId: validId, fileId: failing.id, result: 'redriven', record: 'reset' },
        { messageId: malformedId, fileId: null, result: 'left', reason: malformedReason },
      ]),
    );
    expect(res.stderr).toContain('not valid jobs and were left');
    const record = await stack.waitForFinal(failing.id);
    expect(record.status).toBe('archived');
    // The record started afresh: the failed attempts before the redrive are not counted.
    expect(record).toMatchObject({ attempts: 1 });
    expect(record).not.toHaveProperty('lastError');
    const list = await stack.run(['dlq', 'list', '--json']);
    const { deadLetters } = JSON.parse(list.stdout) as { deadLetters: { messageId: string }[] };
    expect(deadLetters.map((d) => d.messageId)).toEqual([malformedId]);
  });

  it('dlq redrive needs --all or ids (exit 2)', async () => {
    const res = await stack.run(['dlq', 'redrive']);
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe('archiver: give --all or the message ids to redrive (see "archiver dlq list")');
  });
});
