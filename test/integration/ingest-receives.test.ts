import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLookupServer } from '../../local/lookup-server.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { METRIC } from '../../shared/contracts/metric-names.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { createIngestStack } from '../support/ingest-stack.js';
import type { IngestStack } from '../support/ingest-stack.js';
import { createRecordedLookup } from '../support/recorded-lookup.js';
import { generatedFileFactory } from '../support/upstream.js';

/**
 * What uses up a job's receives, against the real queue (fauxqs, with a redrive policy of only two
 * receives here), and what the record says when a job runs out of them.
 */
const MAX_RECEIVES = 2;
let stack: IngestStack;
let lookup: { url: string; close(): Promise<void> };
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  stack = await createIngestStack({ s3: 'fauxqs', maxReceiveCount: MAX_RECEIVES });
  // Lookup's calls are checked against the lookup role.
  lookup = await startLookupServer(await createRecordedLookup(stack, quiet));
});
afterAll(async () => {
  await lookup.close();
  await stack.close();
});

const bodyOf = (m: Message) => (m.Body ? (JSON.parse(m.Body) as { fileId?: string }) : {});

/** Acts as the event source: receives and invokes until `done`, or until the queue stays empty. */
async function drain(done: () => Promise<boolean>, maxRounds: number): Promise<Message[]> {
  const delivered: Message[] = [];
  let empty = 0;
  for (let round = 0; round < maxRounds && empty < 3 && !(await done()); round++) {
    const messages = await stack.receiveAny();
    if (messages.length === 0) {
      empty += 1;
      continue;
    }
    empty = 0;
    delivered.push(...messages);
    await stack.invoke(messages);
  }
  return delivered;
}

/** Makes a message that failed visible again at once, as if its visibility timeout had passed. */
async function redeliverNow(message: Message): Promise<void> {
  await stack.aws.sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: stack.queues.queueUrl,
      ReceiptHandle: message.ReceiptHandle,
      VisibilityTimeout: 0,
    }),
  );
}

describe('a throttling storm does not dead-letter a healthy job (D6)', () => {
  it(
    'archives a file after 20 consecutive 429s, with a queue that ' + 'allows 2 receives, and nothing reaches the DLQ',
    async () => {
      const file = generatedFileFactory();
      await stack.upstream.addFile(file);
      // Twenty 429s in a row (retry-after: 0), then upstream recovers.
      for (let i = 0; i < 20; i++) stack.upstream.injectFault(file.id, 'metadata', { status: 429 });
      const throttledBefore = stack.metricTotal(METRIC.upstreamThrottled);
      await stack.aws.sqs.send(
        new SendMessageCommand({ QueueUrl: stack.queues.queueUrl, MessageBody: serializeJob({ fileId: file.id }) }),
      );

      const delivered = await drain(async () => (await stack.index.get(file.id))?.status === 'archived', 40);

      expect(await stack.index.get(file.id)).toMatchObject({ status: 'archived' });
      expect(stack.upstream.requestCount(file.id, 'metadata')).toBe(21);
      expect(stack.metricTotal(METRIC.upstreamThrottled)).toBe(throttledBefore + 20);
      // Each wait was a fresh copy: every delivery was its message's first, the last carried 20 deferrals.
      const ours = delivered.filter((m) => bodyOf(m).fileId === file.id);
      expect(ours).toHaveLength(21);
      expect(ours.map((m) => m.Attributes?.['ApproximateReceiveCount'])).toEqual(ours.map(() => '1'));
      expect(ours.at(-1)?.MessageAttributes?.['deferrals']?.StringValue).toBe('20');
      expect((await stack.deadLetters()).filter((m) => bodyOf(m).fileId === file.id)).toEqual([]);
      expect(await stack.queueCounts()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    },
  );
});

describe('a job that reaches the DLQ leaves its file failed, not pending (D8)', () => {
  it(
    'records the file failed on the last receive, with the reason ' +
      'and the last upstream request id; lookups show it',
    async () => {
      const file = generatedFileFactory();
      await stack.upstream.addFile(file);
      for (let i = 0; i < MAX_RECEIVES; i++) stack.upstream.injectFault(file.id, 'metadata', { status: 400 });
      const [first] = await stack.sendAndReceive([serializeJob({ fileId: file.id, chatId: file.chatId })]);
      if (!first) throw new Error('no message');

      expect((await stack.invoke([first])).failed).toHaveLength(1);
      expect(await stack.index.get(file.id)).toMatchObject({ status: 'pending' });
      await redeliverNow(first);
      const [last] = await stack.receiveAny();
      if (!last) throw new Error('the job did not come back');
      expect(last.Attributes?.['ApproximateReceiveCount']).toBe(String(MAX_RECEIVES));
      expect((await stack.invoke([last])).failed).toHaveLength(1);

      const lastRequestId = stack.upstream.requests
        .filter((r) => r.id === file.id && r.endpoint === 'metadata')
        .at(-1)?.requestId;
      const failed = {
        status: 'failed',
        reason: 'dead_lettered',
        detail: expect.stringContaining('400'),
        upstreamStatus: 400,
        upstreamErrorType: 'invalid_request_error',
        upstreamRequestId: lastRequestId,
        chatIds: [file.chatId],
      };
      expect(await stack.index.get(file.id)).toMatchObject(failed);
      // The queue then moves the job to the dead-letter queue on its next receive.
      await redeliverNow(last);
      expect((await stack.receiveAny()).filter((m) => bodyOf(m).fileId === file.id)).toEqual([]);
      expect((await stack.deadLetters()).filter((m) => bodyOf(m).fileId === file.id)).toHaveLength(1);

      const byFile = await request(`${lookup.url}/files/${file.id}`);
      expect(byFile.statusCode).toBe(200);
      expect(await byFile.body.json()).toMatchObject(failed);
      const byChat = await request(`${lookup.url}/chats/${file.chatId}/files`);
      expect(await byChat.body.json()).toMatchObject({ files: [failed] });
      const content = await request(`${lookup.url}/files/${file.id}/content`);
      expect(content.statusCode).toBe(409);
      await content.body.dump();
    },
  );

  it('makes the file pending again when its dead letter is redriven, then archives it', async () => {
    const file = generatedFileFactory();
    await stack.upstream.addFile(file);
    for (let i = 0; i < MAX_RECEIVES; i++) stack.upstream.injectFault(file.id, 'metadata', { status: 400 });
    const body = serializeJob({ fileId: file.id, chatId: file.chatId });
    const [first] = await stack.sendAndReceive([body]);
    if (!first) throw new Error('no message');
    await stack.invoke([first]);
    await redeliverNow(first);
    await stack.invoke(await stack.receiveAny());
    expect(await stack.index.get(file.id)).toMatchObject({ status: 'failed' });

    // A redrive puts the dead letter's body back on the ingest queue; its first delivery claims the file.
    const claim = await stack.index.claim(file.id, 'generated', 'redrive-check', Date.now(), 1_000);
    expect(claim).toMatchObject({ kind: 'claimed' });
    const reopened = await stack.index.get(file.id);
    expect(reopened).toMatchObject({ status: 'pending' });
    for (const stale of ['reason', 'detail', 'failedAt', 'upstreamStatus', 'upstreamErrorType'])
      expect(reopened).not.toHaveProperty(stale);
    expect((await stack.index.listChat(file.chatId, 10, undefined)).items).toMatchObject([{ status: 'pending' }]);
    await stack.index.release(file.id, 'redrive-check', {
      error: 'claim checked by the test',
      upstreamRequestId: null,
    });

    const { failed } = await stack.deliver([body]);

    expect(failed).toEqual([]);
    expect(await stack.index.get(file.id)).toMatchObject({ status: 'archived' });
    expect((await stack.index.listChat(file.chatId, 10, undefined)).items).toMatchObject([{ status: 'archived' }]);
  });
});
