/**
 * The shapes Lambda's SQS event source hands a function, built field for field as Lambda builds them:
 * the record for a received message, the context whose remaining time counts down from the function
 * timeout, and how a `batchItemFailures` response is read. Used by the local event source
 * (sqs-event-source.ts), the tests and the bench, so that the ingest handler runs locally unchanged.
 */
import { randomUUID } from 'node:crypto';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Context, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID } from '../shared/platform/local-account.js';

type ParsedBatchResponse = { ok: true; failedIds: Set<string> } | { ok: false; reason: string };

/**
 * Reads a handler's response as Lambda does: nothing, an empty object or an empty or null
 * `batchItemFailures` is full success; an entry whose `itemIdentifier` is missing, empty or not a
 * message of the batch fails the whole batch.
 */
export function parseBatchResponse(response: unknown, records: readonly SQSRecord[]): ParsedBatchResponse {
  if (response === undefined || response === null) return { ok: true, failedIds: new Set() };
  if (typeof response !== 'object') return { ok: false, reason: 'response is not an object' };
  const failures: unknown = 'batchItemFailures' in response ? response.batchItemFailures : undefined;
  if (failures === undefined || failures === null) return { ok: true, failedIds: new Set() };
  if (!Array.isArray(failures)) return { ok: false, reason: 'batchItemFailures is not a list' };
  const known = new Set(records.map((r) => r.messageId));
  const failedIds = new Set<string>();
  for (const failure of failures) {
    const id: unknown =
      typeof failure === 'object' && failure !== null && 'itemIdentifier' in failure
        ? failure.itemIdentifier
        : undefined;
    if (typeof id !== 'string' || id === '') return { ok: false, reason: 'an itemIdentifier is missing or empty' };
    if (!known.has(id)) return { ok: false, reason: `itemIdentifier ${id} is not in the batch` };
    failedIds.add(id);
  }
  return { ok: true, failedIds };
}

/** Builds the record Lambda would deliver for a received message. */
export function toSqsRecord(message: Message, eventSourceARN: string, awsRegion: string): SQSRecord {
  const { MessageId, ReceiptHandle, Body, MD5OfBody } = message;
  if (MessageId === undefined || ReceiptHandle === undefined || Body === undefined || MD5OfBody === undefined) {
    throw new Error('ReceiveMessage returned a message without MessageId, ReceiptHandle, Body or MD5OfBody');
  }
  const attrs = message.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
    SentTimestamp: attrs.SentTimestamp ?? '',
    SenderId: attrs.SenderId ?? LOCAL_ACCOUNT_ID,
    ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? '',
  };
  // Optional attributes appear only when SQS reports them, as in Lambda's records.
  const optional = [
    'AWSTraceHeader',
    'SequenceNumber',
    'MessageGroupId',
    'MessageDeduplicationId',
    'DeadLetterQueueSourceArn',
  ] as const;
  for (const name of optional) {
    const value = attrs[name];
    if (value !== undefined) attributes[name] = value;
  }
  return {
    messageId: MessageId,
    receiptHandle: ReceiptHandle,
    body: Body,
    attributes,
    messageAttributes: toRecordMessageAttributes(message.MessageAttributes ?? {}),
    md5OfBody: MD5OfBody,
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion,
  };
}

function toRecordMessageAttributes(attrs: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attrs)) {
    out[name] = {
      // Lambda always carries both lists (empty) and gives binary values base64-encoded.
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
    };
  }
  return out;
}

/** A Lambda context whose getRemainingTimeInMillis counts down from the function timeout. */
export function createLambdaContext(opts: {
  functionName: string;
  region: string;
  timeoutMs: number;
  memoryLimitInMB?: number;
}): Context {
  const deadline = Date.now() + opts.timeoutMs;
  const awsRequestId = randomUUID();
  const unsupported = (): never => {
    throw new Error('callback-style completion is not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: opts.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${opts.region}:${LOCAL_ACCOUNT_ID}:function:${opts.functionName}`,
    memoryLimitInMB: String(opts.memoryLimitInMB ?? 1024),
    awsRequestId,
    logGroupName: `/aws/lambda/${opts.functionName}`,
    logStreamName:
      `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/` + `[$LATEST]${awsRequestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
