/**
 * What the local stack does at start about the work a stopped or killed predecessor left half done.
 *
 * Deployed, SQS and Lambda recover a crashed invocation by waiting: the message reappears after the
 * queue's visibility timeout (90 minutes, six function timeouts) and the file's lease in DynamoDB
 * lapses after 16 minutes. Those waits are right there, because another invocation may still be
 * running. They are wrong for the local stack: it is the only consumer of its queue (start.ts refuses
 * a second stack on the same data folder), so at start every message still in flight was received by
 * a process that is gone, and every lease its deliveries took is dead.
 *
 * So before polling, for each message of the ingest queue that is in flight (received, not deleted):
 * 1. if its job's file holds a lease, the lease is released (only that process could have taken it),
 *    with `lastError` saying why, so the redelivery need not wait 16 minutes;
 * 2. the message is made visible at once, so it is received again within a poll, not in 90 minutes.
 * The redelivery is an ordinary at-least-once delivery: a file whose object was already committed is
 * adopted after re-verification, an archived one is acknowledged, so nothing is archived twice.
 * A message that was waiting out a retry delay (a 429's retry-after, a backoff) is in flight too and
 * is tried again at once: after a restart that costs at most one early attempt.
 */
import { ChangeMessageVisibilityBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseJob } from '../shared/contracts/job.js';
import type { InFlightMessage } from './aws/fauxqs-server.js';
import { fileItemKey } from '../shared/contracts/table-keys.js';
import { DynamoDbFileIndex } from '../shared/index/dynamodb-file-index.js';
import { describeError } from '../shared/platform/errors.js';
import type { Log } from '../shared/platform/telemetry.js';

export interface ResumeDeps {
  sqs: SQSClient;
  queueUrl: string;
  doc: DynamoDBDocumentClient;
  table: string;
  log: Log;
}

/** Recorded as the file's `lastError` when a dead process's lease is released. */
export const RESTART_RELEASE_REASON = 'the local stack stopped while this file was being archived; retried at restart';

/** Releases the leases of the in-flight jobs' files, then makes the messages visible. Run before polling. */
export async function resumeAbandonedJobs(
  inFlight: readonly InFlightMessage[],
  deps: ResumeDeps,
): Promise<{ resumed: number; leasesReleased: number }> {
  if (inFlight.length === 0) return { resumed: 0, leasesReleased: 0 };
  const repository = new DynamoDbFileIndex(deps.doc, deps.table);
  let leasesReleased = 0;
  for (const message of inFlight) {
    const parsed = parseJob(message.body);
    if (!parsed.ok) continue; // the handler will send it to the dead-letter queue with its reason
    const fileId = parsed.job.fileId;
    const item = await deps.doc.send(
      new GetCommand({
        TableName: deps.table,
        Key: fileItemKey(fileId),
        ProjectionExpression: 'leaseOwner',
        ConsistentRead: true,
      }),
    );
    const owner = item.Item?.['leaseOwner'];
    if (typeof owner !== 'string') continue;
    await repository.release(fileId, owner, { error: RESTART_RELEASE_REASON, upstreamRequestId: null });
    leasesReleased++;
    deps.log.info('released the lease of a delivery the previous run did not finish', {
      fileId,
      messageId: message.messageId,
    });
  }
  let resumed = 0;
  for (let i = 0; i < inFlight.length; i += 10) {
    const chunk = inFlight.slice(i, i + 10);
    const res = await deps.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: deps.queueUrl,
        Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.receiptHandle, VisibilityTimeout: 0 })),
      }),
    );
    resumed += res.Successful?.length ?? 0;
    for (const failure of res.Failed ?? []) {
      deps.log.warn('could not make an unfinished job visible again; it returns after the visibility timeout', {
        messageId: chunk[Number(failure.Id)]?.messageId,
        error: describeError(`${failure.Code}: ${failure.Message ?? ''}`),
      });
    }
  }
  return { resumed, leasesReleased };
}
