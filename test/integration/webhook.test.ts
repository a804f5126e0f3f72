import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DISCOVERY_KEYS } from '../../shared/contracts/table-keys.js';
import { MAX_WEBHOOK_BODY_BYTES, MAX_WEBHOOK_IDS } from '../../shared/contracts/webhook.js';
import { runChatPoller } from '../../shared/discovery/chat-poller.js';
import { DynamoDbDiscoveryStore } from '../../shared/index/dynamodb-discovery-store.js';
import { createSqsJobSender } from '../../shared/platform/sqs-job-sender.js';
import { createListingClient } from '../../shared/upstream/listing-client.js';
import { createUpstreamAgent } from '../../shared/upstream/upstream-client.js';
import { generatedFileFactory, TEST_UPSTREAM_API_KEY, uploadedFileFactory } from '../support/upstream.js';
import { createWebhookStack, type WebhookStack } from '../support/webhook-stack.js';
import { signedDelivery, testWebhookSecret } from '../support/webhook-signing.js';

// POST /events through the local HTTP endpoint, against dynalite (replay ids), fauxqs (the ingest
// queue, behind a proxy that can refuse entries) and the test upstream (its listings serve chat fan-out).
let stack: WebhookStack;
const CHAT = 'claude_chat_01WebhookChat';
const chatFiles = [
  generatedFileFactory({ chatId: CHAT, filename: 'summary.txt', createdAt: '2025-06-01T10:00:00Z' }),
  generatedFileFactory({
    chatId: CHAT,
    filename: 'numbers.csv',
    mimeType: 'text/csv',
    createdAt: '2025-06-01T11:00:00Z',
  }),
  uploadedFileFactory({ chatIds: [CHAT], filename: 'brief.md', createdAt: '2025-06-01T09:00:00Z' }),
];

beforeAll(async () => {
  stack = await createWebhookStack();
  for (const f of chatFiles) await stack.upstream.addFile(f);
});
afterAll(async () => {
  await stack.close();
});
beforeEach(async () => {
  stack.secret.current = testWebhookSecret();
  delete stack.secret.previous;
  await stack.drainJobs();
  stack.logs.length = 0;
});

const fileEvent = (...fileIds: string[]) => ({ v: 1, fileIds, reason: 'legal hold LH-114' });
const sign = (body: unknown, opts: Parameters<typeof signedDelivery>[2] = {}) =>
  signedDelivery(body as object, [stack.secret.current], opts);

describe('POST /events: signatures', () => {
  it(
    'accepts a valid signature: 202 with what was accepted, one ingest ' + 'job per file id carrying the reason',
    async () => {
      const res = await stack.post(sign(fileEvent('claude_gen_file_01Valid', 'claude_file_01Valid', 'file_01Valid')));
      expect(res.status).toBe(202);
      expect(res.json).toMatchObject({
        duplicate: false,
        fileIds: ['claude_gen_file_01Valid', 'claude_file_01Valid', 'file_01Valid'],
        chats: [],
        chatsNotFound: [],
        reason: 'legal hold LH-114',
      });
      const jobs = await stack.drainJobs();
      expect(jobs.map((j) => [j.fileId, j.reason]).sort()).toEqual([
        ['claude_file_01Valid', 'legal hold LH-114'],
        ['claude_gen_file_01Valid', 'legal hold LH-114'],
        ['file_01Valid', 'legal hold LH-114'],
      ]);
    },
  );

  it('refuses a wrong signature with 401, logs the source IP but never the body, and enqueues nothing', async () => {
    const res = await stack.post(
      signedDelivery(fileEvent('claude_gen_file_01SecretBodyMarker'), [testWebhookSecret()]),
    );
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: { type: 'unauthorized', message: 'No signature matches.' } });
    expect(await stack.drainJobs()).toEqual([]);
    const refusal = stack.logs.find((l) => l.message === 'webhook signature refused');
    expect(refusal?.attributes).toMatchObject({ sourceIp: '127.0.0.1', refusal: 'no_matching_signature' });
    expect(JSON.stringify(stack.logs)).not.toContain('SecretBodyMarker');
  });

  it('refuses a request without the webhook headers with 401', async () => {
    const res = await stack.post({
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(fileEvent('file_01x'))),
    });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: { type: 'unauthorized' } });
  });

  it('during a rotation accepts signatures by the old and the new secret; afterwards only the new one', async () => {
    const old = stack.secret.current;
    const next = testWebhookSecret();
    stack.secret.current = next;
    stack.secret.previous = old;
    const byOld = await stack.post(signedDelivery(fileEvent('file_01ByOld'), [old]));
    const byNew = await stack.post(signedDelivery(fileEvent('file_01ByNew'), [next]));
    const byBoth = await stack.post(signedDelivery(fileEvent('file_01ByBoth'), [old, next]));
    expect([byOld.status, byNew.status, byBoth.status]).toEqual([202, 202, 202]);

    delete stack.secret.previous;
    expect((await stack.post(signedDelivery(fileEvent('file_01ByOldLate'), [old]))).status).toBe(401);
    expect((await stack.post(signedDelivery(fileEvent('file_01ByBothLate'), [old, next]))).status).toBe(202);
    expect((await stack.drainJobs()).map((j) => j.fileId).sort()).toEqual([
      'file_01ByBoth',
      'file_01ByBothLate',
      'file_01ByNew',
      'file_01ByOld',
    ]);
  });

  it.each([
    ['expired', -301],
    ['future', 301],
  ])('refuses an %s timestamp (more than 5 minutes away) with 401', async (_name, shift) => {
    const res = await stack.post(sign(fileEvent('file_01Late'), { shiftSeconds: shift }));
    expect(res.status).toBe(401);
    expect(res.json).toEqual({
      error: { type: 'unauthorized', message: expect.stringContaining('more than 5 minutes') },
    });
    expect(await stack.drainJobs()).toEqual([]);
  });
});

describe('POST /events: replays', () => {
  it(
    'acknowledges a replayed webhook-id as a duplicate with the first ' + 'outcome, and enqueues nothing twice',
    async () => {
      const delivery = sign(fileEvent('claude_gen_file_01Replayed'));
      const first = await stack.post(delivery);
      const again = await stack.post(delivery);
      // A sender's retry: same id, new timestamp and signature.
      const retry = await stack.post(sign(fileEvent('claude_gen_file_01Replayed'), { id: delivery.id }));
      expect([first.status, again.status, retry.status]).toEqual([202, 202, 202]);
      expect(first.json?.['duplicate']).toBe(false);
      for (const res of [again, retry]) {
        expect(res.json).toEqual({ ...first.json, duplicate: true });
      }
      expect((await stack.drainJobs()).map((j) => j.fileId)).toEqual(['claude_gen_file_01Replayed']);
    },
  );

  it(
    'answers 409 to a webhook-id reused for another body, enqueues ' +
      'nothing for it, and still answers the first body as a duplicate',
    async () => {
      const first = sign(fileEvent('claude_gen_file_01First'));
      expect((await stack.post(first)).status).toBe(202);

      const reused = await stack.post(sign(fileEvent('claude_gen_file_01Other'), { id: first.id }));

      expect(reused.status).toBe(409);
      expect(reused.json).toEqual({
        error: { type: 'conflict', message: expect.stringContaining('already used for a different body') },
      });
      expect((await stack.drainJobs()).map((j) => j.fileId)).toEqual(['claude_gen_file_01First']);
      const again = await stack.post(sign(fileEvent('claude_gen_file_01First'), { id: first.id }));
      expect([again.status, again.json?.['duplicate']]).toEqual([202, true]);
    },
  );

  it('treats the same body under a new webhook-id as a new event', async () => {
    expect((await stack.post(sign(fileEvent('file_01Twice')))).json?.['duplicate']).toBe(false);
    expect((await stack.post(sign(fileEvent('file_01Twice')))).json?.['duplicate']).toBe(false);
    expect(await stack.drainJobs()).toHaveLength(2);
  });
});

describe('POST /events: bodies', () => {
  it('refuses a body over 64 KiB with 413 before checking anything else', async () => {
    const body = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1, 0x20);
    const res = await stack.post(sign(body));
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ error: { type: 'payload_too_large' } });
    const atLimit = Buffer.concat([
      Buffer.from(JSON.stringify(fileEvent('file_01AtLimit'))),
      Buffer.alloc(MAX_WEBHOOK_BODY_BYTES - 100, 0x20),
    ]).subarray(0, MAX_WEBHOOK_BODY_BYTES);
    expect((await stack.post(sign(atLimit))).status).toBe(202);
  });

  it.each([
    ['malformed JSON', '{"v":1,"fileIds":["file_01a"]', 'not valid JSON'],
    ['unknown fields', JSON.stringify({ v: 1, fileIds: ['file_01a'], priority: 'high' }), 'Unknown field(s): priority'],
    ['a bad id', JSON.stringify({ v: 1, fileIds: ['claude_file_../../etc'] }), 'fileIds.0'],
    [
      'too many ids',
      JSON.stringify({ v: 1, fileIds: Array.from({ length: MAX_WEBHOOK_IDS + 1 }, (_, i) => `file_01n${i}`) }),
      'fileIds',
    ],
    ['no ids', JSON.stringify({ v: 1, reason: 'nothing' }), 'at least one id'],
    ['another version', JSON.stringify({ v: 2, fileIds: ['file_01a'] }), 'v'],
  ])('refuses %s, signed correctly, with a 400 JSON error', async (_name, body, fragment) => {
    const res = await stack.post(sign(Buffer.from(body)));
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: { type: 'invalid_request', message: expect.stringContaining(fragment) } });
    expect(await stack.drainJobs()).toEqual([]);
  });

  it('answers anything but POST /events with a JSON 404, like the API Gateway in front of the function', async () => {
    const { request } = await import('undici');
    const res = await request(`${stack.url}/events`, { method: 'GET' });
    expect(res.statusCode).toBe(404);
    expect(await res.body.json()).toEqual({ error: { type: 'not_found', message: 'No such route.' } });
  });
});

describe('POST /events: chat fan-out', () => {
  it('lists the chat’s messages and enqueues one job per file, with the chat id, metadata and reason', async () => {
    const res = await stack.post(sign({ v: 1, chatIds: [CHAT, 'claude_chat_01NoSuchChat'], reason: 'DLP alert 7' }));
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({
      chats: [{ chatId: CHAT, jobs: 3 }],
      chatsNotFound: ['claude_chat_01NoSuchChat'],
      fileIds: [],
    });
    const jobs = await stack.drainJobs();
    expect(jobs.map((j) => j.fileId).sort()).toEqual(chatFiles.map((f) => f.id).sort());
    for (const job of jobs) {
      expect(job).toMatchObject({ chatId: CHAT, reason: 'DLP alert 7', file: { filename: expect.any(String) } });
    }
    // The listing requests were drawn from the shared upstream budget, as a poller's are.
    const window = await stack.aws.ddb.send(
      new GetCommand({ TableName: stack.indexTable, Key: DISCOVERY_KEYS.budgetWindow('compliance') }),
    );
    expect(window.Item?.['pollerUsed']).toBeGreaterThan(0);
  });

  it(
    'answers 202 when upstream throttles a chat, leaves the chat ' +
      'checkpointed for the chat poller, which finishes it with the ' +
      'reason',
    async () => {
      stack.upstream.injectFault(CHAT, 'messages', { status: 429, retryAfterSeconds: 1 });
      const delivery = sign({ v: 1, fileIds: ['file_01WithChat'], chatIds: [CHAT], reason: 'hold 9' });

      const first = await stack.post(delivery);

      expect(first.status).toBe(202);
      expect(first.json).toMatchObject({
        duplicate: false,
        fileIds: ['file_01WithChat'],
        chats: [{ chatId: CHAT, jobs: 0, queued: true }],
      });
      expect((await stack.drainJobs()).map((j) => j.fileId)).toEqual(['file_01WithChat']);
      const store = new DynamoDbDiscoveryStore(stack.aws.ddb, stack.indexTable);
      expect(await store.listChatRequests(10)).toEqual([
        expect.objectContaining({ webhookId: delivery.id, chatId: CHAT, after: null, reason: 'hold 9' }),
      ]);
      // A retry of the same delivery is a duplicate: the chat is not read from page 1 again.
      expect((await stack.post(delivery)).json?.['duplicate']).toBe(true);

      // The 429 paused the shared budget for a second; then the chat poller's run finishes the chat.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const run = await runChatPoller(
        {
          upstream: createListingClient({
            baseUrl: stack.upstream.url,
            apiKey: TEST_UPSTREAM_API_KEY,
            dispatcher: createUpstreamAgent(),
          }),
          store,
          requests: store,
          jobs: createSqsJobSender(stack.aws.sqs, stack.queueUrl),
          deletions: { recordUpstreamDeletion: async () => undefined },
          log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
          counters: { record: () => undefined },
          now: Date.now,
          pageSize: 10,
          messagePageSize: 1,
        },
        { deadlineMs: Date.now() + 60_000, stopMarginMs: 0, leaseMs: 120_000 },
      );

      expect(run.kind === 'ran' && run.ledger.ending).toBe('completed');
      // (The run's own walk of the org's chats enqueues them too, without a reason: duplicates ingest absorbs.)
      const requested = (await stack.drainJobs()).filter((j) => j.reason === 'hold 9');
      expect(requested.map((j) => j.fileId).sort()).toEqual(chatFiles.map((f) => f.id).sort());
      for (const job of requested) expect(job.chatId).toBe(CHAT);
      expect(await store.listChatRequests(10)).toEqual([]);
    },
  );

  it(
    'answers 202 when the shared upstream budget has no room, leaving ' +
      'the chat it could not start for the chat poller',
    async () => {
      // One poller request per minute (10 % of 10): the first chat takes it, the second finds none within 0 ms.
      const starved = await createWebhookStack({
        budget: {
          COMPLIANCE_REQUESTS_PER_MINUTE: '10',
          POLLER_BUDGET_SHARE: '0.1',
          BUDGET_WINDOW_MS: '60000',
          BUDGET_MAX_WAIT_MS: '0',
        },
      });
      try {
        for (const f of chatFiles) await starved.upstream.addFile(f);
        const res = await starved.post(
          signedDelivery({ v: 1, chatIds: [CHAT, 'claude_chat_01Second'] }, [starved.secret.current]),
        );
        expect(res.status).toBe(202);
        expect(res.json).toMatchObject({
          chats: [
            { chatId: CHAT, jobs: 3 },
            { chatId: 'claude_chat_01Second', jobs: 0, queued: true },
          ],
        });
        expect(starved.upstream.requestCount('claude_chat_01Second', 'messages')).toBe(0);
        const store = new DynamoDbDiscoveryStore(starved.aws.ddb, starved.indexTable);
        expect((await store.listChatRequests(10)).map((r) => r.chatId)).toEqual(['claude_chat_01Second']);
      } finally {
        await starved.close();
      }
    },
  );
});

describe('POST /events: enqueue failures', () => {
  it('sends refused entries again and answers 202 only once the queue accepted every job', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `claude_gen_file_01Retry${i}`);
    const before = stack.sqsProxy.batchCalls.length;
    stack.sqsProxy.failBatches('fail-first-entry', 'fail-all-entries');
    const res = await stack.post(sign(fileEvent(...ids)));
    expect(res.status).toBe(202);
    expect(stack.sqsProxy.batchCalls.slice(before)).toEqual([10, 1, 1, 2]);
    expect((await stack.drainJobs()).map((j) => j.fileId).sort()).toEqual([...ids].sort());
  });

  it(
    'answers 503 with Retry-After, never a false 202, when the queue ' + 'keeps refusing; the retry then succeeds',
    async () => {
      stack.sqsProxy.failBatches('fail-all-entries', 'fail-all-entries', 'fail-all-entries');
      const delivery = sign(fileEvent('claude_gen_file_01Refused'));
      const first = await stack.post(delivery);
      expect(first.status).toBe(503);
      expect(first.json).toEqual({
        error: { type: 'service_unavailable', message: expect.stringContaining('send the same delivery again') },
      });
      expect(Number(first.headers['retry-after'])).toBeGreaterThan(0);
      expect(await stack.drainJobs()).toEqual([]);
      expect(stack.logs.some((l) => l.level === 'error' && l.attributes['dependency'] === 'queue')).toBe(true);

      const retry = await stack.post(delivery);
      expect(retry.status).toBe(202);
      expect(retry.json?.['duplicate']).toBe(false);
      expect((await stack.drainJobs()).map((j) => j.fileId)).toEqual(['claude_gen_file_01Refused']);
    },
  );
});

describe('POST /events: throttling', () => {
  it('answers 429 with the JSON error once the endpoint’s own throttle is spent', async () => {
    const throttled = await createWebhookStack({ server: { rateLimit: 1, burstLimit: 2 } });
    try {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await throttled.post(signedDelivery(fileEvent(`file_01Throttle${i}`), [throttled.secret.current]));
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 2)).toEqual([202, 202]);
      expect(statuses.slice(2)).toContain(429);
      const refused = await throttled.post(signedDelivery(fileEvent('file_01ThrottleX'), [throttled.secret.current]));
      expect(refused.status).toBe(429);
      expect(refused.json).toEqual({ error: { type: 'rate_limited', message: expect.any(String) } });
      expect(refused.headers['retry-after']).toBe('1');
    } finally {
      await throttled.close();
    }
  });
});
