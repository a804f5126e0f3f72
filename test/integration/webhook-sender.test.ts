/**
 * The local webhook sender (`npm run webhook`) behaves as a Standard Webhooks sender: a `503` or `409`
 * means nothing was acknowledged, so it sends the same delivery again (same webhook-id, a fresh valid
 * signature) after Retry-After, and gives up after a few attempts; a 409 without Retry-After (the id
 * was used for another body) is final.
 * The endpoint here is a real HTTP server on loopback that checks each signature and answers a script.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { sendWebhookDelivery } from '../../local/webhook-sender.js';

const SECRET = `whsec_${Buffer.from('a local test secret of 32 bytes!').toString('base64')}`;

interface Seen {
  webhookId: string;
  body: string;
  signatureValid: boolean;
}

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** Answers each delivery with the next scripted answer (the last one repeats). */
async function scriptedEndpoint(answers: { status: number; retryAfter?: string }[]) {
  const seen: Seen[] = [];
  const verifier = new Webhook(SECRET);
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let signatureValid = true;
      try {
        verifier.verify(body, {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        });
      } catch {
        signatureValid = false;
      }
      seen.push({ webhookId: String(req.headers['webhook-id']), body, signatureValid });
      const answer = answers[Math.min(seen.length - 1, answers.length - 1)] ?? { status: 500 };
      res.writeHead(answer.status, {
        'content-type': 'application/json',
        ...(answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter }),
      });
      res.end(JSON.stringify({ status: answer.status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, seen };
}

const delivery = (url: string) => ({
  url,
  secret: SECRET,
  webhookId: 'msg_sender_test',
  body: JSON.stringify({ v: 1, chatIds: ['claude_chat_01SampleQuarterlyReview'] }),
});

describe('the local webhook sender', () => {
  it('sends the same delivery again after a 503 and a 409, waiting Retry-After, until it is accepted', async () => {
    const endpoint = await scriptedEndpoint([
      { status: 503, retryAfter: '2' },
      { status: 409, retryAfter: '1' },
      { status: 202 },
    ]);
    const waits: number[] = [];
    const reports: string[] = [];
    const result = await sendWebhookDelivery(delivery(endpoint.url), {
      sleep: async (ms) => void waits.push(ms),
      report: (line) => reports.push(line),
    });
    expect(result).toMatchObject({ status: 202, attempts: 3 });
    expect(waits).toEqual([2000, 1000]);
    expect(endpoint.seen.map((s) => s.webhookId)).toEqual(['msg_sender_test', 'msg_sender_test', 'msg_sender_test']);
    expect(endpoint.seen.every((s) => s.signatureValid && s.body === delivery(endpoint.url).body)).toBe(true);
    expect(reports[0]).toContain('503');
    expect(reports[0]).toContain('again in 2 s, attempt 2 of 5');
  });

  it('gives up after its attempts and returns the last answer', async () => {
    const endpoint = await scriptedEndpoint([{ status: 503, retryAfter: 'soon' }]);
    const waits: number[] = [];
    const result = await sendWebhookDelivery(delivery(endpoint.url), {
      maxAttempts: 3,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(result).toMatchObject({ status: 503, attempts: 3 });
    // A Retry-After that is not delay-seconds counts as 1 s.
    expect(waits).toEqual([1000, 1000]);
  });

  it(
    'does not send an acceptance, a refusal or a 409 without Retry-After ' + '(an id reused for another body) again',
    async () => {
      for (const [status, retryAfter] of [
        [202, '1'],
        [400, '1'],
        [401, '1'],
        [413, '1'],
        [409, undefined],
      ] as const) {
        const endpoint = await scriptedEndpoint([{ status, ...(retryAfter === undefined ? {} : { retryAfter }) }]);
        const result = await sendWebhookDelivery(delivery(endpoint.url), { sleep: async () => {} });
        expect(result).toMatchObject({ status, attempts: 1 });
        expect(endpoint.seen).toHaveLength(1);
      }
    },
  );
});
