import { createHash } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, describe, it } from 'vitest';
import { ensureQueues } from '../../local/aws/resources.js';
import { startSqsEventSource, type SqsEventSource, type SqsHandler } from '../../local/sqs-event-source.js';
import { localAwsFromInject, uniqueName } from '../support/local-aws.js';

// Proves against real fauxqs that the local event source deletes what Lambda's SQS event source
// mapping deletes, and nothing else, so redrive to the dead-letter queue happens as in AWS.

const aws = localAwsFromInject();
const sources: SqsEventSource[] = [];

afterAll(async () => {
  await Promise.all(sources.map((s) => s.stop()));
  aws.destroy();
});

async function makeQueues(opts: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {}) {
  return ensureQueues(aws.sqs, {
    name: uniqueName('evsrc'),
    maxReceiveCount: opts.maxReceiveCount ?? 5,
    visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds ?? 1,
  });
}

async function sendBodies(queueUrl: string, bodies: string[]): Promise<void> {
  await aws.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body })),
    }),
  );
}

function start(
  queueUrl: string,
  handler: SqsHandler,
  extra: { concurrency?: number; batchSize?: number; functionTimeoutSeconds?: number } = {},
) {
  const source = startSqsEventSource({ sqs: aws.sqs, queueUrl, handler, waitTimeSeconds: 1, ...extra });
  sources.push(source);
  return source;
}

/** Receives everything visible now (after the visibility timeout has let failures reappear). */
async function drainBodies(queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 30,
      }),
    );
    if (Messages.length === 0) return bodies.sort();
    for (const m of Messages) bodies.push(m.Body ?? '');
  }
}

async function messageCounts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? NaN),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? NaN),
  };
}

/** Resolves when `count` handler invocations have finished (the handler calls `done`). */
function invocationLatch(count: number) {
  let seen = 0;
  let release: () => void = () => {};
  const reached = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    done() {
      seen += 1;
      if (seen >= count) release();
    },
    reached,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Each test uses its own queues, so they run concurrently: most of their time is waiting on SQS.
describe.concurrent('local SQS event source against fauxqs', () => {
  it('delivers Lambda-shaped records and a context counting down from the function timeout', async ({ expect }) => {
    const { queueUrl } = await makeQueues();
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"v":1,"fileId":"claude_gen_file_01x"}',
        MessageAttributes: { origin: { DataType: 'String', StringValue: 'test' } },
      }),
    );
    let seen: { event: SQSEvent; remaining: number } | undefined;
    const latch = invocationLatch(1);
    const source = start(
      queueUrl,
      async (event: SQSEvent, context: Context) => {
        seen = { event, remaining: context.getRemainingTimeInMillis() };
        latch.done();
      },
      { functionTimeoutSeconds: 30 },
    );
    await latch.reached;
    await source.stop();

    const record = seen?.event.Records[0];
    expect(seen?.event.Records).toHaveLength(1);
    expect(record).toMatchObject({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      body: '{"v":1,"fileId":"claude_gen_file_01x"}',
      md5OfBody: createHash('md5').update('{"v":1,"fileId":"claude_gen_file_01x"}').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').pop()}`,
      awsRegion: 'us-east-1',
      messageAttributes: {
        origin: { stringValue: 'test', dataType: 'String', stringListValues: [], binaryListValues: [] },
      },
    });
    expect(record?.attributes.ApproximateReceiveCount).toBe('1');
    expect(record?.attributes.SentTimestamp).toMatch(/^\d{13}$/);
    expect(record?.attributes.ApproximateFirstReceiveTimestamp).toMatch(/^\d{13}$/);
    expect(seen?.remaining).toBeLessThanOrEqual(30_000);
    expect(seen?.remaining).toBeGreaterThan(25_000);
    expect(await messageCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('partial batch failure: deletes the succeeded records and leaves only the failed one to reappear', async ({
    expect,
  }) => {
    const { queueUrl } = await makeQueues();
    await sendBodies(queueUrl, ['ok-1', 'fail-me', 'ok-2']);
    const latch = invocationLatch(1);
    const batches: string[][] = [];
    const source = start(queueUrl, async (event): Promise<SQSBatchResponse> => {
      batches.push(event.Records.map((r) => r.body));
      latch.done();
      return {
        batchItemFailures: event.Records.filter((r) => r.body === 'fail-me').map((r) => ({
          itemIdentifier: r.messageId,
        })),
      };
    });
    await latch.reached;
    await source.stop();
    expect(batches[0]?.sort()).toEqual(['fail-me', 'ok-1', 'ok-2']);
    await sleep(1_200); // the queue's 1 s visibility timeout
    expect(await drainBodies(queueUrl)).toEqual(['fail-me']);
  });

  it('a handler that throws fails the whole batch: nothing is deleted', async ({ expect }) => {
    const { queueUrl } = await makeQueues({ visibilityTimeoutSeconds: 30 });
    await sendBodies(queueUrl, ['a', 'b', 'c']);
    const latch = invocationLatch(1);
    const source = start(queueUrl, async () => {
      latch.done();
      throw new Error('boom');
    });
    await latch.reached;
    await source.stop();
    expect(await messageCounts(queueUrl)).toEqual({ visible: 0, inFlight: 3 });
  });

  it('a batchItemFailures entry with an unknown itemIdentifier fails the whole batch', async ({ expect }) => {
    const { queueUrl } = await makeQueues({ visibilityTimeoutSeconds: 30 });
    await sendBodies(queueUrl, ['x', 'y']);
    const latch = invocationLatch(1);
    const source = start(queueUrl, async () => {
      latch.done();
      return { batchItemFailures: [{ itemIdentifier: 'no-such-message' }] };
    });
    await latch.reached;
    await source.stop();
    expect(await messageCounts(queueUrl)).toEqual({ visible: 0, inFlight: 2 });
  });

  it('a handler that outlives the function timeout fails its batch', async ({ expect }) => {
    const { queueUrl } = await makeQueues({ visibilityTimeoutSeconds: 30 });
    await sendBodies(queueUrl, ['slow']);
    const failed = invocationLatch(1);
    const source = startSqsEventSource({
      sqs: aws.sqs,
      queueUrl,
      waitTimeSeconds: 1,
      functionTimeoutSeconds: 0.2,
      handler: () => sleep(2_000).then(() => undefined),
      logger: (entry) => {
        if (entry.level === 'error') failed.done();
      },
    });
    sources.push(source);
    await failed.reached;
    await source.stop();
    expect(await messageCounts(queueUrl)).toEqual({ visible: 0, inFlight: 1 });
  });

  it('a message that fails maxReceiveCount times moves to the dead-letter queue through redrive', async ({
    expect,
  }) => {
    const { queueUrl, dlqUrl } = await makeQueues({ maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
    await sendBodies(queueUrl, ['poison']);
    const receiveCounts: string[] = [];
    const latch = invocationLatch(2);
    const source = start(queueUrl, async (event) => {
      for (const r of event.Records) receiveCounts.push(r.attributes.ApproximateReceiveCount);
      latch.done();
      throw new Error('always fails');
    });
    await latch.reached;
    // The third receive attempt finds the count exhausted and fauxqs moves the message instead.
    const deadline = Date.now() + 5_000;
    while ((await messageCounts(dlqUrl)).visible === 0 && Date.now() < deadline) await sleep(100);
    await source.stop();
    expect(receiveCounts).toEqual(['1', '2']);
    expect(await messageCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await drainBodies(dlqUrl)).toEqual(['poison']);
  });

  it('runs parallel pollers when concurrency > 1', async ({ expect }) => {
    const { queueUrl } = await makeQueues({ visibilityTimeoutSeconds: 30 });
    await sendBodies(queueUrl, ['1', '2', '3', '4']);
    let running = 0;
    let maxRunning = 0;
    const latch = invocationLatch(4);
    const source = start(
      queueUrl,
      async (event: SQSEvent) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await sleep(300);
        running -= 1;
        for (const _record of event.Records satisfies SQSRecord[]) latch.done();
      },
      { concurrency: 3, batchSize: 1 },
    );
    await latch.reached;
    await source.stop();
    expect(maxRunning).toBeGreaterThanOrEqual(2);
    expect(await messageCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('stop() waits for the in-flight batch to finish and be deleted', async ({ expect }) => {
    const { queueUrl } = await makeQueues({ visibilityTimeoutSeconds: 30 });
    await sendBodies(queueUrl, ['in-flight']);
    let started: () => void = () => {};
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    let finished = false;
    const source = start(queueUrl, async () => {
      started();
      await sleep(400);
      finished = true;
    });
    await handlerStarted;
    await source.stop();
    expect(finished).toBe(true);
    expect(await messageCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('stop({ graceMs }) gives up waiting after the grace and leaves the unfinished batch in flight', async ({
    expect,
  }) => {
    const { queueUrl } = await makeQueues({ visibilityTimeoutSeconds: 30 });
    await sendBodies(queueUrl, ['slow']);
    let started: () => void = () => {};
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const source = start(queueUrl, async () => {
      started();
      await held;
    });
    await handlerStarted;
    const stopping = Date.now();
    const { unfinishedBatches } = await source.stop({ graceMs: 300 });
    expect(Date.now() - stopping).toBeLessThan(1_500);
    expect(unfinishedBatches).toBe(1);
    expect(await messageCounts(queueUrl)).toEqual({ visible: 0, inFlight: 1 });
    release();
  });

  it('hands a message received while stopping back to the queue instead of processing it', async ({ expect }) => {
    const { queueUrl } = await makeQueues({ visibilityTimeoutSeconds: 30 });
    let invoked = 0;
    const source = startSqsEventSource({
      sqs: aws.sqs,
      queueUrl,
      handler: async () => void invoked++,
      waitTimeSeconds: 3,
    });
    sources.push(source);
    await sleep(300); // the poller is now inside a long poll on the empty queue
    const stopped = source.stop();
    await sendBodies(queueUrl, ['arrives-while-stopping']);
    expect(await stopped).toEqual({ unfinishedBatches: 0 });
    expect(invoked).toBe(0);
    expect(await messageCounts(queueUrl)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('stops within about one long-poll wait when the queue is idle', async ({ expect }) => {
    const { queueUrl } = await makeQueues();
    const source = start(queueUrl, async () => {});
    await sleep(100);
    const stopping = Date.now();
    await source.stop();
    expect(Date.now() - stopping).toBeLessThan(1_600);
  });
});
