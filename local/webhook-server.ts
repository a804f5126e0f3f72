import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { WEBHOOK_ROUTE } from '../shared/contracts/webhook.js';
import type { WebhookHandler } from '../lambdas/webhook/runtime.js';
import { closeHttpServer, listenOnLoopback } from './loopback.js';
import { localIdentity } from './api-gateway-identity.js';

/** API Gateway's own limit on a REST API request body; the function refuses far smaller ones (413). */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface WebhookServerOptions {
  port?: number;
  /** Stage throttling as API Gateway applies it: a token bucket of `burstLimit` refilled at `rateLimit`/s. */
  rateLimit?: number;
  burstLimit?: number;
  /** The function's timeout: each request's handler is aborted 2 s before it, as the Lambda's is. */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Serves the webhook handler over HTTP on 127.0.0.1, doing what API Gateway does in front of the
 * Lambda in the deployed stack (infra/constructs/webhook-ingress.ts): only `POST /events` reaches
 * the function (anything else is the gateway's JSON 404), stage throttling answers 429, a body over
 * the gateway's 10 MiB is 413, and the body reaches the function base64-encoded (the API treats every
 * media type as binary), so the function verifies the signature over exactly the bytes sent.
 */
export async function startWebhookServer(
  handler: WebhookHandler,
  opts: WebhookServerOptions = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const now = opts.now ?? Date.now;
  const bucket = createTokenBucket(opts.rateLimit ?? 10, opts.burstLimit ?? 20, now);
  const timeoutMs = opts.timeoutMs ?? 25_000;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!bucket.take()) {
      req.resume();
      sendGatewayError(res, 429, 'rate_limited', 'Too many requests; slow down and send again.', {
        'Retry-After': '1',
      });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== WEBHOOK_ROUTE.method || url.pathname !== WEBHOOK_ROUTE.resource) {
      req.resume();
      sendGatewayError(res, 404, 'not_found', 'No such route.');
      return;
    }
    void readBody(req).then(async (body) => {
      if (body === 'too_large') {
        sendGatewayError(res, 413, 'payload_too_large', 'The body is too large.');
        return;
      }
      let result: APIGatewayProxyResult;
      try {
        const signal = AbortSignal.timeout(Math.max(1, timeoutMs - 2_000));
        result = await handler(toWebhookEvent(req, url, body), { signal });
      } catch {
        // The handler maps every failure itself; this is a crash, which Lambda would report as 502.
        sendGatewayError(res, 502, 'internal_error', 'The request could not be completed.');
        return;
      }
      res.writeHead(result.statusCode, stringHeaders(result.headers));
      res.end(result.body);
    });
  });
  const port = await listenOnLoopback(server, opts.port ?? 0);
  return { url: `http://127.0.0.1:${port}`, close: () => closeHttpServer(server) };
}

/** The REST proxy event API Gateway sends for a binary (base64) body. */
export function toWebhookEvent(req: IncomingMessage, url: URL, body: Buffer): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
  return {
    resource: WEBHOOK_ROUTE.resource,
    path: url.pathname,
    httpMethod: req.method ?? 'POST',
    headers,
    multiValueHeaders,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: body.toString('base64'),
    isBase64Encoded: true,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local-webhook',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'POST',
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: WEBHOOK_ROUTE.resource,
      identity: localIdentity({ caller: null, sourceIp, userAgent: headers['user-agent'] ?? null }),
    },
  };
}

/**
 * Reads the body, keeping nothing past the gateway's limit. The rest is read and dropped rather than
 * left unread, so that the client sees the 413 instead of a reset connection.
 */
function readBody(req: IncomingMessage): Promise<Buffer | 'too_large'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= GATEWAY_MAX_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size > GATEWAY_MAX_BODY_BYTES ? 'too_large' : Buffer.concat(chunks)));
    // A client that goes away mid-body is answered into the void; the handler sees an empty body.
    req.on('error', () => resolve(Buffer.alloc(0)));
  });
}

/** The gateway responses the deployed API is configured with: the API's JSON error shape. */
function sendGatewayError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    Connection: 'close',
    ...headers,
  });
  res.end(JSON.stringify({ error: { type, message } }));
}

/** API Gateway's throttle: up to `burst` requests at once, refilled at `rate` per second. */
export function createTokenBucket(rate: number, burst: number, now: () => number): { take(): boolean } {
  let tokens = burst;
  let last = now();
  return {
    take() {
      const t = now();
      tokens = Math.min(burst, tokens + ((t - last) / 1000) * rate);
      last = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

function stringHeaders(headers: APIGatewayProxyResult['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k] = String(v);
  return out;
}
