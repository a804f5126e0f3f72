/**
 * Polls an SQS queue the way Lambda's SQS event source mapping does and invokes a handler with the
 * same event and context shapes, so the ingest handler runs locally unchanged:
 * - records are built field for field as Lambda builds them (lambda-sqs-shapes.ts);
 * - with ReportBatchItemFailures (on by default, as the infrastructure configures it) only records
 *   not named in `batchItemFailures` are deleted; a thrown error, a timeout, or a response naming an
 *   empty or unknown `itemIdentifier` fails the whole batch (nothing deleted), as Lambda does;
 * - failed messages are left alone: they return after the queue's visibility timeout and move to
 *   the dead-letter queue through the queue's own RedrivePolicy.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../shared/platform/local-account.js';
import { createLambdaContext, parseBatchResponse, toSqsRecord } from './lambda-sqs-shapes.js';

/** An SQS-triggered Lambda handler. */
// biome-ignore lint/suspicious/noConfusingVoidType: Lambda's own handler type allows a handler that returns nothing
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
  /**
   * Stops polling and lets in-flight batches finish (and their deletes happen), waiting at most
   * `graceMs` (default: as long as they take). Messages received while stopping are handed back to
   * the queue at once. Resolves with the number of batches still running when the grace ran out:
   * their messages stay in flight in the queue, to be received again.
   */
  stop(opts?: { graceMs?: number }): Promise<{ unfinishedBatches: number }>;
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
  let batchesRunning = 0;

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
    if (stopping) {
      await handBack(messages);
      return;
    }
    batchesRunning++;
    try {
      await processBatch(messages);
    } finally {
      batchesRunning--;
    }
  }

  async function processBatch(messages: Message[]): Promise<void> {
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
      log({
        level: 'error',
        message: 'handler failed; whole batch returns to the queue',
        error: outcome.error,
        size: records.length,
      });
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
    log({
      level: 'info',
      message: 'batch done',
      size: records.length,
      deleted: succeeded.length,
      failed: failedIds.size,
    });
  }

  /** A message received after stop() was called is made visible again rather than processed. */
  async function handBack(messages: Message[]): Promise<void> {
    const entries = messages.flatMap((m, i) =>
      m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }] : [],
    );
    if (entries.length === 0) return;
    try {
      await opts.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: opts.queueUrl, Entries: entries }));
    } catch (err) {
      log({
        level: 'warn',
        message: 'could not hand messages back while stopping; they return after the visibility timeout',
        error: err,
      });
    }
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

  const pollers = Promise.all(Array.from({ length: concurrency }, () => runPoller()));
  return {
    async stop(stopOpts = {}) {
      stopping = true;
      if (stopOpts.graceMs === undefined) {
        await pollers;
        return { unfinishedBatches: 0 };
      }
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), stopOpts.graceMs);
      });
      const outcome = await Promise.race([pollers.then(() => 'done' as const), graceOver]);
      clearTimeout(timer);
      return { unfinishedBatches: outcome === 'done' ? 0 : batchesRunning };
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

function queueNameOf(queueUrl: string): string {
  const name = new URL(queueUrl).pathname.split('/').filter(Boolean).pop();
  if (!name) throw new Error(`cannot read a queue name from ${queueUrl}`);
  return name;
}
