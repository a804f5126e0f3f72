import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureQueues, ensureTable } from '../../local/aws/resources.js';
import { RESTART_RELEASE_REASON, resumeAbandonedJobs } from '../../local/crash-recovery.js';
import type { InFlightMessage } from '../../local/aws/fauxqs-server.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { fileItemKey } from '../../shared/contracts/table-keys.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { localAwsFromInject, uniqueName } from '../support/local-aws.js';

const aws = localAwsFromInject();
afterAll(() => aws.destroy());
const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };
const LEASE_MS = 960_000;

async function counts(queueUrl: string) {
  const { Attributes = {} } = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

describe('resumeAbandonedJobs (what a restarted local stack does first)', () => {
  it("releases the dead deliveries' leases and makes their messages visible at once", async () => {
    const name = uniqueName('recover');
    // The deployed visibility timeout: without recovery these messages would stay hidden 90 minutes.
    const { queueUrl } = await ensureQueues(aws.sqs, { name, maxReceiveCount: 5, visibilityTimeoutSeconds: 5_400 });
    await ensureTable(aws.ddb, name);
    const repository = new DynamoDbFileIndex(aws.ddb, name);
    const leased = 'claude_gen_file_01RecoverLeased';
    const free = 'claude_gen_file_01RecoverFree';
    await aws.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: '0', MessageBody: serializeJob({ fileId: leased }) },
          { Id: '1', MessageBody: serializeJob({ fileId: free }) },
          { Id: '2', MessageBody: 'not a job' },
        ],
      }),
    );
    // The process that is about to die receives the three and claims one file.
    const { Messages = [] } = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages).toHaveLength(3);
    const leasedMessage = Messages.find((m) => m.Body?.includes(leased));
    const claim = await repository.claim(
      leased,
      'generated',
      `${leasedMessage?.MessageId}:dead-process`,
      Date.now(),
      LEASE_MS,
    );
    expect(claim.kind).toBe('claimed');
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 3 });
    // A restarted process would be held off for the whole lease.
    expect((await repository.claim(leased, 'generated', 'restarted', Date.now(), LEASE_MS)).kind).toBe('held');

    const inFlight: InFlightMessage[] = Messages.map((m) => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
    }));
    const result = await resumeAbandonedJobs(inFlight, {
      sqs: aws.sqs,
      queueUrl,
      doc: aws.ddb,
      table: name,
      log: silent,
    });

    expect(result).toEqual({ resumed: 3, leasesReleased: 1 });
    expect(await counts(queueUrl)).toEqual({ visible: 3, inFlight: 0 });
    const item = await aws.ddb.send(new GetCommand({ TableName: name, Key: fileItemKey(leased) }));
    expect(item.Item?.['leaseOwner']).toBeUndefined();
    expect(item.Item?.['lastError']).toBe(RESTART_RELEASE_REASON);
    expect((await repository.claim(leased, 'generated', 'restarted', Date.now(), LEASE_MS)).kind).toBe('claimed');
  });

  it('does nothing when nothing was in flight', async () => {
    const result = await resumeAbandonedJobs([], {
      sqs: aws.sqs,
      queueUrl: 'unused',
      doc: aws.ddb,
      table: 'unused',
      log: silent,
    });
    expect(result).toEqual({ resumed: 0, leasesReleased: 0 });
  });
});
