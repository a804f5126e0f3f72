/**
 * Polls an SQS queue the way Lambda's SQS event source mapping does and invokes a handler with the
 * same event and context shapes, so the ingest handler runs locally unchanged:
 * - records are built field for field as Lambda builds them;
 * - with ReportBatchItemFailures (on by default, as the infrastructure configures it) only records
 *   not named in `batchItemFailures` are deleted; a thrown error, a timeout, or a response naming an
 *   empty or unknown `itemIdentifier` fails the whole batch (nothing deleted), as Lambda does;
 * - failed messages are left alone: they return after the queue's visibility timeout and move to
 *   the dead-letter queue through the queue's own RedrivePolicy.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSMessageAttributes,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './aws/local-account.js';

/** An SQS-triggered Lambda handler. */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface EventSourceLogEntry {
  level: 'info' | 'warn' | 'error';
  message: string;
  [field: string]: unknown;
}

export interface SqsEventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: SqsHandler;
  /** Region placed in records and ARNs. Default us-east-1. */
  region?: string;
  /** Messages per batch, 1..10. Default 10. */
  batchSize?: number;
  /** Long-poll wait per ReceiveMessage, seconds; small so that stop() is quick. Default 1. */
  waitTimeSeconds?: number;
  /** Parallel pollers, each invoking the handler with its own batches. Default 1. */
  concurrency?: number;
  /** The function timeout: the context counts down from it and a longer invocation fails. Default 900. */
  functionTimeoutSeconds?: number;
  /** Whether the handler's batchItemFailures are honoured (FunctionResponseTypes). Default true. */
  reportBatchItemFailures?: boolean;
  functionName?: string;
  memoryLimitInMB?: number;
  logger?: (entry: EventSourceLogEntry) => void;
}

export interface SqsEventSource {
  /** Stops polling, lets in-flight batches finish (and their deletes happen), then resolves. */
  stop(): Promise<void>;
}

/** Starts polling `queueUrl` and invoking `handler`, until stop() is called. */
export function startSqsEventSource(opts: SqsEventSourceOptions): SqsEventSource {
  const batchSize = opts.batchSize ?? 10;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
    throw new Error('batchSize must be an integer from 1 to 10');
  }
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be a positive integer');
  const region = opts.region ?? LOCAL_REGION;
  const queueName = queueNameOf(opts.queueUrl);
  const eventSourceARN = `arn:aws:sqs:${region}:${LOCAL_ACCOUNT_ID}:${queueName}`;
  const log = opts.logger ?? (() => {});
  const functionName = opts.functionName ?? `local-${queueName}-consumer`;
  const timeoutMs = (opts.functionTimeoutSeconds ?? 900) * 1000;
  let stopping = false;

  async function pollOnce(): Promise<void> {
    const received = await opts.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: opts.queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: opts.waitTimeSeconds ?? 1,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return;
    const records = messages.map((m) => toSqsRecord(m, eventSourceARN, region));
    const context = createLambdaContext({
      functionName,
      region,
      timeoutMs,
      memoryLimitInMB: opts.memoryLimitInMB ?? 1024,
    });

    const outcome = await invokeWithTimeout(opts.handler, { Records: records }, context, timeoutMs);
    let failedIds: Set<string>;
    if (!outcome.ok) {
      log({ level: 'error', message: 'handler failed; whole batch returns to the queue', error: outcome.error, size: records.length });
      failedIds = new Set(records.map((r) => r.messageId));
    } else if (opts.reportBatchItemFailures === false) {
      failedIds = new Set();
    } else {
      const parsed = parseBatchResponse(outcome.result, records);
      if (!parsed.ok) {
        log({ level: 'error', message: `invalid batch response (${parsed.reason}); whole batch returns to the queue` });
      }
      failedIds = parsed.ok ? parsed.failedIds : new Set(records.map((r) => r.messageId));
    }

    const succeeded = records.filter((r) => !failedIds.has(r.messageId));
    if (succeeded.length > 0) {
      const deleted = await opts.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: opts.queueUrl,
          Entries: succeeded.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      for (const failure of deleted.Failed ?? []) {
        log({ level: 'warn', message: 'DeleteMessageBatch entry failed', code: failure.Code, detail: failure.Message });
      }
    }
    log({ level: 'info', message: 'batch done', size: records.length, deleted: succeeded.length, failed: failedIds.size });
  }

  async function runPoller(): Promise<void> {
    while (!stopping) {
      try {
        await pollOnce();
      } catch (err) {
        if (stopping) return;
        log({ level: 'warn', message: 'polling failed; retrying', error: err });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  const pollers = Array.from({ length: concurrency }, () => runPoller());
  return {
    async stop() {
      stopping = true;
      await Promise.all(pollers);
    },
  };
}

type InvokeOutcome = { ok: true; result: unknown } | { ok: false; error: unknown };

async function invokeWithTimeout(
  handler: SqsHandler,
  event: SQSEvent,
  context: Context,
  timeoutMs: number,
): Promise<InvokeOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<InvokeOutcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, error: new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`) }),
      timeoutMs,
    );
  });
  const invoked = (async (): Promise<InvokeOutcome> => {
    try {
      return { ok: true, result: await handler(event, context) };
    } catch (error) {
      return { ok: false, error };
    }
  })();
  try {
    return await Promise.race([invoked, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

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
    logStreamName: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${awsRequestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

function queueNameOf(queueUrl: string): string {
  const name = new URL(queueUrl).pathname.split('/').filter(Boolean).pop();
  if (!name) throw new Error(`cannot read a queue name from ${queueUrl}`);
  return name;
}
