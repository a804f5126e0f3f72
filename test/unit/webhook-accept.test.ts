import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { UpstreamRateLimitedError } from '../../shared/platform/errors.js';
import type { ChatFanOut, JobSender, ReplayClaim, ReplayGuard, StoredOutcome } from '../../shared/webhook/ports.js';
import { createWebhookHandler } from '../../shared/webhook/webhook-http.js';
import { signedDelivery, testWebhookSecret } from '../support/webhook-signing.js';

// The use case and its HTTP mapping with in-memory ports: what each dependency failure answers.
const SECRET = testWebhookSecret();

/** Follows the ReplayGuard contract: claim / complete / release with a fencing token and a lease. */
function memoryReplays(
  leaseMs = 60_000,
): ReplayGuard & { items: Map<string, { state: string; token: string; leaseUntil: number; outcome?: StoredOutcome }> } {
  const items = new Map<string, { state: string; token: string; leaseUntil: number; outcome?: StoredOutcome }>();
  let n = 0;
  return {
    items,
    async claim(id, now): Promise<ReplayClaim> {
      const item = items.get(id);
      if (item?.state === 'done' && item.outcome) return { kind: 'duplicate', outcome: item.outcome };
      if (item?.state === 'pending' && item.leaseUntil >= now)
        return { kind: 'in_progress', retryAfterSeconds: Math.ceil((item.leaseUntil - now) / 1000) };
      const token = `t${++n}`;
      items.set(id, { state: 'pending', token, leaseUntil: now + leaseMs });
      return { kind: 'claimed', token };
    },
    async complete(id, token, outcome) {
      if (items.get(id)?.token === token) items.set(id, { state: 'done', token, leaseUntil: 0, outcome });
    },
    async release(id, token) {
      if (items.get(id)?.token === token) items.set(id, { state: 'released', token, leaseUntil: 0 });
    },
  };
}

function setup(overrides: { jobs?: JobSender; chats?: ChatFanOut; replays?: ReplayGuard } = {}) {
  const sent: string[] = [];
  const logs: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
  const entry =
    (level: string) =>
    (message: string, attributes: Record<string, unknown> = {}) =>
      void logs.push({ level, message, attributes });
  const replays = overrides.replays ?? memoryReplays();
  const handler = createWebhookHandler({
    secrets: { active: async () => [SECRET] },
    replays,
    jobs: overrides.jobs ?? { send: async (bodies) => void sent.push(...bodies) },
    chats: overrides.chats ?? { enqueueChatFiles: async () => ({ found: true, jobs: 2 }) },
    log: { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') },
    counters: { record() {} },
    now: Date.now,
  });
  const call = (delivery: ReturnType<typeof signedDelivery>, signal?: AbortSignal) =>
    handler(eventOf(delivery), signal ? { signal } : {}).then((r) => ({
      ...r,
      json: JSON.parse(r.body) as Record<string, unknown>,
    }));
  return { handler, call, sent, logs, replays };
}

function eventOf(d: ReturnType<typeof signedDelivery>): APIGatewayProxyEvent {
  return {
    resource: '/events',
    path: '/events',
    httpMethod: 'POST',
    headers: d.headers,
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: d.body.toString('base64'),
    isBase64Encoded: true,
    requestContext: {
      requestId: 'r1',
      identity: { sourceIp: '198.51.100.7' },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

const event = { v: 1, fileIds: ['claude_gen_file_01a'], chatIds: ['claude_chat_01c'], reason: 'ticket 42' };

describe('webhook use case', () => {
  it(
    'a delivery that failed is given up, so the sender’s retry of ' +
      'the same id is processed, not called a duplicate',
    async () => {
      let failures = 1;
      const sent: string[] = [];
      const { call } = setup({
        jobs: {
          send: async (bodies) => {
            if (failures-- > 0) throw new Error('queue down');
            sent.push(...bodies);
          },
        },
      });
      const delivery = signedDelivery(event, [SECRET]);
      const first = await call(delivery);
      expect(first.statusCode).toBe(503);
      expect(first.headers?.['Retry-After']).toBe('10');
      expect(first.json).toEqual({
        error: { type: 'service_unavailable', message: expect.stringContaining('send the same delivery again') },
      });
      const retry = await call(delivery);
      expect(retry.statusCode).toBe(202);
      expect(retry.json).toMatchObject({ duplicate: false, fileIds: ['claude_gen_file_01a'] });
      expect(sent).toHaveLength(1);
    },
  );

  it(
    'a second delivery of an id still being processed answers 409 ' + 'with Retry-After, and enqueues nothing',
    async () => {
      const replays = memoryReplays(30_000);
      const { call, sent } = setup({ replays });
      const delivery = signedDelivery(event, [SECRET]);
      await replays.claim(delivery.id, Date.now());
      const res = await call(delivery);
      expect(res.statusCode).toBe(409);
      expect(Number(res.headers?.['Retry-After'])).toBeGreaterThan(25);
      expect(sent).toEqual([]);
    },
  );

  it('passes upstream’s retry-after on when the chat fan-out is throttled', async () => {
    const { call } = setup({
      chats: {
        enqueueChatFiles: () =>
          Promise.reject(
            new UpstreamRateLimitedError(429, 'rate_limit_error', 'req_1', { retryable: true, retryAfterMs: 42_000 }),
          ),
      },
    });
    const res = await call(signedDelivery(event, [SECRET]));
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toBe('42');
  });

  it('answers 503 once the deadline has passed, before claiming the id', async () => {
    const { call, replays } = setup();
    const delivery = signedDelivery(event, [SECRET]);
    const res = await call(delivery, AbortSignal.abort(new Error('deadline')));
    expect(res.statusCode).toBe(503);
    expect((replays as ReturnType<typeof memoryReplays>).items.size).toBe(0);
  });

  it('still answers 202 when the outcome cannot be recorded: every job is on the queue', async () => {
    const replays = memoryReplays();
    replays.complete = () => Promise.reject(new Error('throttled'));
    const { call, sent, logs } = setup({ replays });
    const res = await call(signedDelivery(event, [SECRET]));
    expect(res.statusCode).toBe(202);
    expect(sent).toHaveLength(1);
    expect(logs.some((l) => l.level === 'warn' && l.message.includes('could not record'))).toBe(true);
  });

  it('answers 503 (never 401) when the secret cannot be read', async () => {
    const handler = createWebhookHandler({
      secrets: { active: () => Promise.reject(new Error('AccessDeniedException')) },
      replays: memoryReplays(),
      jobs: { send: async () => {} },
      chats: { enqueueChatFiles: async () => ({ found: false }) },
      log: { debug() {}, info() {}, warn() {}, error() {} },
      counters: { record() {} },
      now: Date.now,
    });
    const res = await handler(eventOf(signedDelivery(event, [SECRET])));
    expect(res.statusCode).toBe(503);
  });

  it('answers a wrong method or route with 405 / 404 JSON errors', async () => {
    const { handler } = setup();
    const d = signedDelivery(event, [SECRET]);
    const get = await handler({ ...eventOf(d), httpMethod: 'GET' });
    expect([get.statusCode, get.headers?.['Allow']]).toEqual([405, 'POST']);
    const other = await handler({ ...eventOf(d), resource: '/other', path: '/other' });
    expect(JSON.parse(other.body)).toEqual({ error: { type: 'not_found', message: 'No such route.' } });
  });

  it('takes a text (non-base64) body as its UTF-8 bytes', async () => {
    const { handler } = setup();
    const d = signedDelivery({ ...event, reason: 'Grüße' }, [SECRET]);
    const res = await handler({ ...eventOf(d), body: d.body.toString('utf8'), isBase64Encoded: false });
    expect(res.statusCode).toBe(202);
  });
});
