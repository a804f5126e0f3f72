import { createHmac, randomBytes } from 'node:crypto';

/**
 * A Standard Webhooks sender written from the spec with node:crypto, independent of the
 * `standardwebhooks` package the function verifies with, so that a test proves the two agree.
 */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: Buffer | string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key);
  mac.update(`${id}.${timestampSeconds}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

export interface SignedDelivery {
  headers: Record<string, string>;
  body: Buffer;
  id: string;
}

/** Headers for one delivery: a fresh id unless given, the current time unless shifted, one signature per secret. */
export function signedDelivery(
  body: Buffer | string | object,
  secrets: readonly string[],
  opts: { id?: string; timestampSeconds?: number; shiftSeconds?: number } = {},
): SignedDelivery {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const id = opts.id ?? `msg_${randomBytes(12).toString('hex')}`;
  const timestamp = opts.timestampSeconds ?? Math.floor(Date.now() / 1000) + (opts.shiftSeconds ?? 0);
  return {
    id,
    body: bytes,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': secrets.map((s) => signWebhook(s, id, timestamp, bytes)).join(' '),
    },
  };
}

/** A Standard Webhooks secret for tests. */
export function testWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
