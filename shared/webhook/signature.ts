/**
 * Standard Webhooks verification, done by the maintained `standardwebhooks` package (HMAC-SHA256 over
 * `id.timestamp.body`, `v1,` signatures, several per header, constant-time comparison, ±5 minutes
 * on the timestamp). This module adds what the package leaves to its caller: strict header formats
 * before anything is computed, two active secrets for rotation, and a reason for each refusal.
 */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import * as z from '../contracts/zod.js';
import { ArchiverError } from '../platform/errors.js';
import type { WebhookSecrets } from './ports.js';

/** The package's tolerance, restated for the messages and the docs (it is not configurable there). */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

/** Printable ASCII without spaces; bounded because it becomes a DynamoDB key and a log field. */
const WEBHOOK_ID = /^[\x21-\x7E]{1,256}$/;
/** Unix seconds. */
const TIMESTAMP = /^\d{1,12}$/;
/** Space-separated `version,base64` entries; bounded so a hostile header costs no real work. */
const SIGNATURE_HEADER = /^[\x20-\x7E]{1,4096}$/;

export type SignatureRefusal =
  | 'missing_headers'
  | 'malformed_headers'
  | 'timestamp_out_of_range'
  | 'no_matching_signature';

export type SignatureCheck =
  | { ok: true; webhookId: string; timestamp: number }
  | { ok: false; refusal: SignatureRefusal };

export interface SignatureHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/**
 * Verifies the raw body (exactly the bytes received, before any parsing) against each active secret.
 * Never throws for anything a caller can send; throws only for a secret that is not a valid secret.
 */
export function verifySignature(
  body: Buffer,
  headers: SignatureHeaders,
  secrets: readonly string[],
  nowMs = Date.now(),
): SignatureCheck {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return { ok: false, refusal: 'missing_headers' };
  if (!WEBHOOK_ID.test(id) || !TIMESTAMP.test(timestamp) || !SIGNATURE_HEADER.test(signature)) {
    return { ok: false, refusal: 'malformed_headers' };
  }
  const seconds = Number(timestamp);
  // The package checks this too (against its own clock); checking first gives the caller the reason.
  if (Math.abs(Math.floor(nowMs / 1000) - seconds) > TIMESTAMP_TOLERANCE_SECONDS) {
    return { ok: false, refusal: 'timestamp_out_of_range' };
  }
  const wireHeaders = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
  for (const secret of secrets) {
    try {
      verifierFor(secret).verify(body, wireHeaders, { jsonParse: false });
      return { ok: true, webhookId: id, timestamp: seconds };
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
      if (/timestamp/i.test(err.message)) return { ok: false, refusal: 'timestamp_out_of_range' };
      // "No matching signature found": try the other active secret.
    }
  }
  return { ok: false, refusal: 'no_matching_signature' };
}

const verifiers = new Map<string, Webhook>();

function verifierFor(secret: string): Webhook {
  let verifier = verifiers.get(secret);
  if (!verifier) {
    verifier = new Webhook(secret);
    // Two live secrets at a time; anything older is dropped rather than kept for the process's life.
    if (verifiers.size >= 4) verifiers.clear();
    verifiers.set(secret, verifier);
  }
  return verifier;
}

/** Standard Webhooks recommends 24 to 64 random bytes. */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

/** `whsec_` (optional) followed by standard base64 of 24-64 bytes. */
export const WebhookSecretSchema = z.string().check(
  z.regex(/^(whsec_)?([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, {
    message: 'must be whsec_ followed by base64',
  }),
  z.refine(
    (s) => {
      const bytes = Buffer.from(s.replace(/^whsec_/, ''), 'base64').length;
      return bytes >= MIN_SECRET_BYTES && bytes <= MAX_SECRET_BYTES;
    },
    { message: `must encode ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes` },
  ),
);

/**
 * The secret's value: one JSON document, so that a rotation is a single atomic write.
 *   { "current": "whsec_…", "previous": "whsec_…" }   (`previous` only while senders move over)
 */
export const WebhookSecretDocumentSchema = z.strictObject({
  current: WebhookSecretSchema,
  previous: z.optional(z.nullable(WebhookSecretSchema)),
});
export type WebhookSecretDocument = z.infer<typeof WebhookSecretDocumentSchema>;

/** The webhook secret cannot be read or is not a valid document: an operator's fix, never the caller's. */
export class WebhookSecretError extends ArchiverError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** Parses the secret's value; the error names the field, never the value. */
export function parseSecretDocument(value: unknown): readonly string[] {
  if (typeof value !== 'string') throw new WebhookSecretError('the webhook secret has no string value');
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new WebhookSecretError(
      'the webhook secret is not a JSON document {"current": "whsec_…", "previous"?: "whsec_…"}',
    );
  }
  const parsed = WebhookSecretDocumentSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.') || 'document'}: ${i.message}`).join('; ');
    throw new WebhookSecretError(`the webhook secret is not valid (${where})`);
  }
  const { current, previous } = parsed.data;
  return previous && previous !== current ? [current, previous] : [current];
}

/**
 * Wraps a reader of the secret's value (cached by the caller: cachedSecretString of
 * shared/platform/secrets-manager-reader.ts) as the port.
 */
export function createWebhookSecrets(read: () => Promise<unknown>): WebhookSecrets {
  let lastValue: unknown;
  let lastParsed: readonly string[] | undefined;
  return {
    async active() {
      let value: unknown;
      try {
        value = await read();
      } catch (err) {
        throw new WebhookSecretError('the webhook secret could not be read', err);
      }
      if (lastParsed && value === lastValue) return lastParsed;
      const parsed = parseSecretDocument(value);
      lastValue = value;
      lastParsed = parsed;
      return parsed;
    },
  };
}
