import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { METRIC, type WebhookOutcome } from '../contracts/metric-names.js';
import {
  MAX_WEBHOOK_BODY_BYTES,
  WEBHOOK_HEADERS,
  WEBHOOK_ROUTE,
  parseWebhookEvent,
  type WebhookErrorBody,
  type WebhookErrorType,
} from '../contracts/webhook.js';
import { describeError } from '../platform/errors.js';
import { DependencyUnavailableError, acceptEvent, guard, type AcceptDeps } from './accept-event.js';
import type { WebhookSecrets } from './ports.js';
import { TIMESTAMP_TOLERANCE_SECONDS, verifySignature, type SignatureRefusal } from './signature.js';

/** The accepted clock skew, in minutes, as the refusal's message states it. */
const SKEW_MINUTES = TIMESTAMP_TOLERANCE_SECONDS / 60;

export interface WebhookHttpDeps extends AcceptDeps {
  secrets: WebhookSecrets;
}

export interface WebhookRequestOptions {
  /** Aborted when the caller can no longer be answered in time (the Lambda's deadline). */
  signal?: AbortSignal;
}

const REFUSAL_MESSAGES: Record<SignatureRefusal, string> = {
  missing_headers: 'The webhook-id, webhook-timestamp and webhook-signature headers are required.',
  malformed_headers: 'The webhook-id, webhook-timestamp or webhook-signature header is malformed.',
  timestamp_out_of_range: `The webhook-timestamp is more than ${SKEW_MINUTES} minutes away from the server's clock.`,
  no_matching_signature: 'No signature matches.',
};

/**
 * API Gateway REST (proxy integration) handler for `POST /events`. The order of checks is the
 * order of cost: route, size (413), then the signature over the exact bytes received (401), and only
 * then is the body decoded and validated (400) and acted on (202). A caller's mistake always gets a
 * 4xx; a 503 (with Retry-After) means a dependency failed and the same delivery should be sent again.
 */
export function createWebhookHandler(
  deps: WebhookHttpDeps,
): (event: APIGatewayProxyEvent, opts?: WebhookRequestOptions) => Promise<APIGatewayProxyResult> {
  return async (event, opts = {}) => {
    const signal = opts.signal ?? new AbortController().signal;
    const trail: Record<string, unknown> = {
      sourceIp: event.requestContext?.identity?.sourceIp ?? null,
      requestId: event.requestContext?.requestId ?? null,
    };
    let result: APIGatewayProxyResult;
    let outcome: WebhookOutcome;
    try {
      ({ result, outcome } = await handle(event, deps, signal, trail));
    } catch (err) {
      if (err instanceof DependencyUnavailableError) {
        deps.log.error('webhook dependency unavailable', {
          ...trail,
          dependency: err.dependency,
          error: describeError(err.cause),
        });
        outcome = 'unavailable';
        result = errorResponse(
          503,
          'service_unavailable',
          'The event could not be processed now; send the same delivery again later.',
          {
            'Retry-After': String(err.retryAfterSeconds),
          },
        );
      } else {
        deps.log.error('webhook failed', { ...trail, error: describeError(err) });
        outcome = 'error';
        result = errorResponse(500, 'internal_error', 'The request could not be completed.');
      }
    }
    deps.counters.record(METRIC.webhookRequests, 1, 'Count', { name: 'outcome', value: outcome });
    // Never the body, never the signature: who called, what they were told, and about which id.
    deps.log.info('webhook', { ...trail, status: result.statusCode, outcome });
    return result;
  };
}

async function handle(
  event: APIGatewayProxyEvent,
  deps: WebhookHttpDeps,
  signal: AbortSignal,
  trail: Record<string, unknown>,
): Promise<{ result: APIGatewayProxyResult; outcome: WebhookOutcome }> {
  if (event.resource !== WEBHOOK_ROUTE.resource && event.path !== WEBHOOK_ROUTE.resource) {
    return { result: errorResponse(404, 'not_found', 'No such route.'), outcome: 'not_found' };
  }
  if (event.httpMethod !== WEBHOOK_ROUTE.method) {
    return {
      result: errorResponse(405, 'method_not_allowed', 'Only POST is supported.', { Allow: 'POST' }),
      outcome: 'method_not_allowed',
    };
  }
  const body = rawBody(event);
  if (body === 'too_large') {
    return {
      result: errorResponse(413, 'payload_too_large', `The body is larger than ${MAX_WEBHOOK_BODY_BYTES} bytes.`),
      outcome: 'too_large',
    };
  }

  const secrets = await guard('secret', () => deps.secrets.active(), signal);
  const check = verifySignature(
    body,
    {
      id: headerOf(event, WEBHOOK_HEADERS.id),
      timestamp: headerOf(event, WEBHOOK_HEADERS.timestamp),
      signature: headerOf(event, WEBHOOK_HEADERS.signature),
    },
    secrets,
    deps.now(),
  );
  if (!check.ok) {
    deps.log.warn('webhook signature refused', { ...trail, refusal: check.refusal });
    return { result: errorResponse(401, 'unauthorized', REFUSAL_MESSAGES[check.refusal]), outcome: 'unauthorized' };
  }
  trail['webhookId'] = check.webhookId;

  const parsed = parseWebhookEvent(body);
  if (!parsed.ok) return { result: errorResponse(400, 'invalid_request', parsed.message), outcome: 'invalid' };
  trail['fileIds'] = parsed.event.fileIds.length;
  trail['chatIds'] = parsed.event.chatIds.length;

  const bodySha256 = createHash('sha256').update(body).digest('hex');
  const accepted = await acceptEvent(check.webhookId, parsed.event, deps, signal, bodySha256);
  if (accepted.kind === 'body_mismatch') {
    deps.log.warn('webhook-id reused with another body', trail);
    return {
      result: errorResponse(
        409,
        'conflict',
        'This webhook-id was already used for a different body; send a new event with a new webhook-id.',
      ),
      outcome: 'id_reused',
    };
  }
  if (accepted.kind === 'in_progress') {
    return {
      result: errorResponse(
        409,
        'conflict',
        'A delivery with this webhook-id is being processed; send it again later.',
        {
          'Retry-After': String(accepted.retryAfterSeconds),
        },
      ),
      outcome: 'in_progress',
    };
  }
  trail['duplicate'] = accepted.body.duplicate;
  return { result: json(202, accepted.body), outcome: accepted.body.duplicate ? 'duplicate' : 'accepted' };
}

/**
 * The body exactly as the caller sent it. The deployed API passes every media type as binary
 * (base64), so these are the bytes that were signed; a text body is taken as its UTF-8 bytes.
 */
function rawBody(event: APIGatewayProxyEvent): Buffer | 'too_large' {
  const text = event.body ?? '';
  if (event.isBase64Encoded) {
    // Four base64 characters per three bytes: refuse before decoding anything oversized.
    if (text.length > Math.ceil(MAX_WEBHOOK_BODY_BYTES / 3) * 4 + 4) return 'too_large';
    const bytes = Buffer.from(text, 'base64');
    return bytes.length > MAX_WEBHOOK_BODY_BYTES ? 'too_large' : bytes;
  }
  if (text.length > MAX_WEBHOOK_BODY_BYTES) return 'too_large';
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length > MAX_WEBHOOK_BODY_BYTES ? 'too_large' : bytes;
}

/** Header names are case-insensitive; API Gateway keeps the caller's spelling. */
function headerOf(event: APIGatewayProxyEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

function errorResponse(
  statusCode: number,
  type: WebhookErrorType,
  message: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  const body: WebhookErrorBody = { error: { type, message } };
  return json(statusCode, body, headers);
}
