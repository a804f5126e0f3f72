import { describe, expect, it } from 'vitest';
import {
  createWebhookSecrets,
  parseSecretDocument,
  verifySignature,
  WebhookSecretError,
} from '../../shared/webhook/signature.js';
import { signWebhook, signedDelivery, testWebhookSecret } from '../support/webhook-signing.js';

const body = Buffer.from(JSON.stringify({ v: 1, fileIds: ['claude_gen_file_01a'] }));

function headersOf(d: ReturnType<typeof signedDelivery>) {
  return {
    id: d.headers['webhook-id'],
    timestamp: d.headers['webhook-timestamp'],
    signature: d.headers['webhook-signature'],
  };
}

describe('verifySignature (Standard Webhooks via the standardwebhooks package)', () => {
  const secret = testWebhookSecret();

  it('accepts a signature made from the spec with node:crypto, over the exact bytes', () => {
    const d = signedDelivery(body, [secret]);
    expect(verifySignature(d.body, headersOf(d), [secret])).toEqual({
      ok: true,
      webhookId: d.id,
      timestamp: Number(d.headers['webhook-timestamp']),
    });
  });

  it('refuses the same signature over re-serialised JSON (one byte of whitespace differs)', () => {
    const d = signedDelivery(body, [secret]);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(d.body.toString()), null, 1));
    expect(verifySignature(reserialised, headersOf(d), [secret])).toEqual({
      ok: false,
      refusal: 'no_matching_signature',
    });
  });

  it('refuses a signature by another secret, or over another id or timestamp', () => {
    const d = signedDelivery(body, [testWebhookSecret()]);
    expect(verifySignature(d.body, headersOf(d), [secret])).toEqual({ ok: false, refusal: 'no_matching_signature' });
    const ts = Number(d.headers['webhook-timestamp']);
    const moved = { id: 'msg_other', timestamp: String(ts), signature: signWebhook(secret, 'msg_orig', ts, body) };
    expect(verifySignature(body, moved, [secret]).ok).toBe(false);
    const shifted = { id: 'msg_orig', timestamp: String(ts - 1), signature: signWebhook(secret, 'msg_orig', ts, body) };
    expect(verifySignature(body, shifted, [secret]).ok).toBe(false);
  });

  it('accepts any one of several signatures in the header, and a signature by either active secret', () => {
    const previous = testWebhookSecret();
    const both = signedDelivery(body, [testWebhookSecret(), secret]);
    expect(verifySignature(both.body, headersOf(both), [secret]).ok).toBe(true);
    const old = signedDelivery(body, [previous]);
    expect(verifySignature(old.body, headersOf(old), [secret, previous]).ok).toBe(true);
    expect(verifySignature(old.body, headersOf(old), [secret]).ok).toBe(false);
  });

  it('refuses timestamps more than 5 minutes away in either direction, and accepts ones just inside', () => {
    for (const shift of [-301, 301, -86_400, 86_400]) {
      const d = signedDelivery(body, [secret], { shiftSeconds: shift });
      expect(verifySignature(d.body, headersOf(d), [secret])).toEqual({ ok: false, refusal: 'timestamp_out_of_range' });
    }
    for (const shift of [-290, 290]) {
      const d = signedDelivery(body, [secret], { shiftSeconds: shift });
      expect(verifySignature(d.body, headersOf(d), [secret]).ok).toBe(true);
    }
  });

  it('refuses missing and malformed headers without computing anything', () => {
    const d = signedDelivery(body, [secret]);
    const h = headersOf(d);
    expect(verifySignature(body, { ...h, signature: undefined }, [secret])).toEqual({
      ok: false,
      refusal: 'missing_headers',
    });
    expect(verifySignature(body, { ...h, id: '' }, [secret])).toEqual({ ok: false, refusal: 'missing_headers' });
    expect(verifySignature(body, { ...h, timestamp: `${h.timestamp}abc` }, [secret])).toEqual({
      ok: false,
      refusal: 'malformed_headers',
    });
    expect(verifySignature(body, { ...h, id: 'has space' }, [secret])).toEqual({
      ok: false,
      refusal: 'malformed_headers',
    });
    expect(verifySignature(body, { ...h, id: 'x'.repeat(257) }, [secret])).toEqual({
      ok: false,
      refusal: 'malformed_headers',
    });
    expect(verifySignature(body, { ...h, signature: 'v1,'.padEnd(5000, 'a') }, [secret])).toEqual({
      ok: false,
      refusal: 'malformed_headers',
    });
    expect(verifySignature(body, { ...h, signature: 'v2,abc v1a' }, [secret])).toEqual({
      ok: false,
      refusal: 'no_matching_signature',
    });
  });
});

describe('the webhook secret document', () => {
  const current = testWebhookSecret();
  const previous = testWebhookSecret();

  it('yields the current secret, then the previous one while a rotation is under way', () => {
    expect(parseSecretDocument(JSON.stringify({ current }))).toEqual([current]);
    expect(parseSecretDocument(JSON.stringify({ current, previous }))).toEqual([current, previous]);
    expect(parseSecretDocument(JSON.stringify({ current, previous: null }))).toEqual([current]);
    expect(parseSecretDocument(JSON.stringify({ current, previous: current }))).toEqual([current]);
  });

  it('accepts the placeholder CloudFormation generates (48 letters and digits, no prefix)', () => {
    expect(parseSecretDocument(JSON.stringify({ current: 'aB3'.repeat(16) }))).toHaveLength(1);
  });

  it.each([
    ['not JSON', 'whsec_abc'],
    ['no current', JSON.stringify({ previous })],
    ['an unknown key', JSON.stringify({ current, next: previous })],
    ['too short a key', JSON.stringify({ current: `whsec_${Buffer.alloc(16).toString('base64')}` })],
    ['not base64', JSON.stringify({ current: 'whsec_not*base64*at*all*not*base64*at*all!!' })],
  ])('refuses %s with an error that never holds the value', (_name, value) => {
    let error: unknown;
    try {
      parseSecretDocument(value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WebhookSecretError);
    expect(String((error as Error).message)).not.toContain(previous.slice(6, 20));
    expect(String((error as Error).message)).not.toContain(current.slice(6, 20));
  });

  it('re-reads the secret on every call (the reader caches) and re-parses only a changed value', async () => {
    let value = JSON.stringify({ current });
    let reads = 0;
    const secrets = createWebhookSecrets(async () => {
      reads++;
      return value;
    });
    expect(await secrets.active()).toEqual([current]);
    value = JSON.stringify({ current: previous, previous: current });
    expect(await secrets.active()).toEqual([previous, current]);
    expect(reads).toBe(2);
  });

  it('turns a failed read into WebhookSecretError', async () => {
    const secrets = createWebhookSecrets(() => Promise.reject(new Error('AccessDenied')));
    await expect(secrets.active()).rejects.toBeInstanceOf(WebhookSecretError);
  });
});
