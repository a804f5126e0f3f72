import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WEBHOOK_BODY_BYTES } from '../../shared/contracts/webhook.js';
import { createWebhookStack, type WebhookStack } from '../support/webhook-stack.js';
import { signWebhook } from '../support/webhook-signing.js';

// Generated bodies and headers thrown at the local HTTP endpoint (dynalite, fauxqs and a listing
// upstream behind it). Whatever arrives, the answer is a 4xx or a 202 with a JSON body: never a 5xx.
let stack: WebhookStack;
beforeAll(async () => {
  stack = await createWebhookStack();
});
afterAll(async () => {
  await stack.close();
});

const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 300,
});
const idBody = fc.stringMatching(/^[A-Za-z0-9_-]{1,30}$/);
const anyId = fc.oneof(
  idBody.map((b) => `claude_gen_file_${b}`),
  idBody.map((b) => `claude_file_${b}`),
  idBody.map((b) => `file_${b}`),
  idBody.map((b) => `claude_chat_${b}`),
  fc.string({ maxLength: 40 }),
);
const eventLike = fc.record(
  {
    v: fc.oneof(fc.constant(1), fc.constant(2), fc.string(), fc.constant(null)),
    fileIds: fc.oneof(fc.array(anyId, { maxLength: 12 }), fc.string(), fc.constant(null)),
    chatIds: fc.oneof(fc.array(anyId, { maxLength: 3 }), fc.integer()),
    reason: fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), fc.integer()),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);
const fileId = fc.oneof(
  idBody.map((b) => `claude_gen_file_${b}`),
  idBody.map((b) => `claude_file_${b}`),
  idBody.map((b) => `file_${b}`),
);
const validEvent = fc.record(
  {
    v: fc.constant(1),
    fileIds: fc.array(fileId, { minLength: 1, maxLength: 5 }),
    chatIds: fc.array(
      idBody.map((b) => `claude_chat_${b}`),
      { maxLength: 2 },
    ),
    reason: fc.oneof(
      fc.string({ minLength: 1, maxLength: 80 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
    ),
  },
  { requiredKeys: ['v', 'fileIds'] },
);
const body = fc.oneof(
  { weight: 3, arbitrary: validEvent.map((e) => Buffer.from(JSON.stringify(e))) },
  { weight: 2, arbitrary: eventLike.map((e) => Buffer.from(JSON.stringify(e))) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 2000 }).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1, 0x7b)) },
);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const timestamp = fc.oneof(
  { weight: 4, arbitrary: fc.constant('now') },
  { weight: 1, arbitrary: fc.integer({ min: -1000, max: 1000 }).map((d) => String(nowSeconds() + d)) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String) },
  { weight: 1, arbitrary: headerText },
);
const delivery = fc.record({
  body,
  id: fc.oneof(
    { weight: 3, arbitrary: fc.stringMatching(/^msg_[A-Za-z0-9]{1,20}$/) },
    { weight: 1, arbitrary: headerText },
  ),
  timestamp,
  // Mostly a correct signature, so the body is parsed and acted on, not only refused.
  signature: fc.oneof(
    { weight: 4, arbitrary: fc.constant('valid') },
    { weight: 1, arbitrary: headerText },
    { weight: 1, arbitrary: fc.constant('v1,') },
  ),
  omit: fc.oneof(
    { weight: 4, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: fc.subarray(['webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type']) },
  ),
});

describe('POST /events under generated input', () => {
  it('never answers 5xx, and every answer is a 202 or a JSON error', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(delivery, async (d) => {
        const ts = d.timestamp === 'now' ? String(nowSeconds()) : d.timestamp;
        const signature =
          d.signature === 'valid' && /^\d{1,12}$/.test(ts)
            ? signWebhook(stack.secret.current, d.id, Number(ts), d.body)
            : d.signature;
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'webhook-id': d.id,
          'webhook-timestamp': ts,
          'webhook-signature': signature,
        };
        for (const name of d.omit) delete headers[name];
        const res = await stack.post({ headers, body: d.body });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status).toBeLessThan(500);
        expect([202, 400, 401, 409, 413]).toContain(res.status);
        if (res.status === 202) expect(res.json).toMatchObject({ webhookId: d.id, duplicate: expect.any(Boolean) });
        else expect(res.json).toEqual({ error: { type: expect.any(String), message: expect.any(String) } });
      }),
      { numRuns: 250 },
    );
    // The generator reached every branch worth reaching.
    for (const status of [202, 400, 401, 413]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
  });
});
