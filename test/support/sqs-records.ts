import { createHash, randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../shared/platform/local-account.js';
import { createLambdaContext } from '../../local/lambda-sqs-shapes.js';

/**
 * An SQS record as Lambda delivers it, for handler tests. An object body is JSON-serialised (pass
 * `serializeJob(...)` for an ingest job); md5OfBody matches the body unless overridden.
 */
export function sqsRecordFactory(body: string | object, overrides: Partial<SQSRecord> = {}): SQSRecord {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${randomUUID().replaceAll('-', '')}`,
    body: text,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: LOCAL_ACCOUNT_ID,
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(text).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:ingest-queue`,
    awsRegion: LOCAL_REGION,
    ...overrides,
  };
}

/** An SQS event holding the given records. */
export function sqsEventFactory(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A Lambda context whose remaining time counts down from `timeoutMs` (default 60 s). */
export function lambdaContextFactory(opts: { timeoutMs?: number; functionName?: string } = {}): Context {
  return createLambdaContext({
    functionName: opts.functionName ?? 'archiver-ingest-test',
    region: LOCAL_REGION,
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
}
