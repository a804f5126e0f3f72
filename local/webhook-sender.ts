/**
 * The sender side of the local webhook, as a Standard Webhooks sender behaves: it signs the event
 * with the stack's secret (the maintained standardwebhooks package) and posts it; when the endpoint
 * answers `503` (the queue, the replay table or the secret failed: nothing was acknowledged) or `409`
 * with `Retry-After` (the same id is being processed), it sends the same delivery again — same
 * `webhook-id`, a fresh timestamp and signature — after that `Retry-After`, a few times. A `409`
 * without `Retry-After` (the id was already used for another body) is final: sending it again
 * cannot change the answer.
 */
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';

export interface WebhookDelivery {
  url: string;
  secret: string;
  webhookId: string;
  /** The JSON body, exactly as signed and sent. */
  body: string;
}

export interface SendOptions {
  /** Deliveries in all, the first included. */
  maxAttempts?: number;
  /** The longest Retry-After honoured; a longer one is cut to this. */
  maxRetryAfterSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Where each answer that is sent again is reported. */
  report?: (line: string) => void;
}

export interface SendResult {
  status: number;
  body: string;
  attempts: number;
}

/** Answers that mean "nothing was done; send the same delivery again". */
function sendAgain(status: number, retryAfter: string | string[] | undefined): boolean {
  return status === 503 || (status === 409 && retryAfter !== undefined);
}

export async function sendWebhookDelivery(delivery: WebhookDelivery, opts: SendOptions = {}): Promise<SendResult> {
  const maxAttempts = opts.maxAttempts ?? 5;
  const maxRetryAfter = opts.maxRetryAfterSeconds ?? 30;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const signer = new Webhook(delivery.secret);
  for (let attempt = 1; ; attempt++) {
    const now = new Date();
    const res = await request(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': delivery.webhookId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signer.sign(delivery.webhookId, now, delivery.body),
      },
      body: delivery.body,
    });
    const body = await res.body.text();
    if (!sendAgain(res.statusCode, res.headers['retry-after']) || attempt >= maxAttempts)
      return { status: res.statusCode, body, attempts: attempt };
    const seconds = retryAfterSeconds(res.headers['retry-after'], maxRetryAfter);
    opts.report?.(
      `${res.statusCode} ${body}\n  sending the same delivery (${delivery.webhookId}) ` +
        `again in ${seconds} s, attempt ${attempt + 1} of ${maxAttempts}; ` +
        `the stack's log says why ("webhook dependency unavailable")`,
    );
    await sleep(seconds * 1000);
  }
}

/** Retry-After in seconds (RFC 9110 delay-seconds); anything else, or nothing, is 1 s. */
function retryAfterSeconds(header: string | string[] | undefined, max: number): number {
  const value = Array.isArray(header) ? header[0] : header;
  const seconds = value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : 1;
  return Math.min(max, seconds);
}
