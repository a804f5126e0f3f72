/**
 * One request to the sample upstream while it is answered: its entry in the request log, its
 * `request-id`, and the ways to answer it, including upstream's error body
 * `{"type":"error","error":{"type","message"},"request_id"}` (docs/upstream-api-facts.md).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UpstreamFault } from './faults.js';
import type { UpstreamEndpoint } from './routes.js';

export type UpstreamErrorStatus = 400 | 401 | 402 | 403 | 404 | 409 | 413 | 429 | 500 | 502 | 503 | 504 | 529;

/** `error.type` per status, as upstream sends it. */
const ERROR_TYPES: Record<UpstreamErrorStatus, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** One request the server received. The API key is never recorded. */
export interface UpstreamRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string's parameters (listings page with them). */
  query: URLSearchParams;
  /** The file or chat id in the path, when the route has one. */
  id?: string;
  endpoint?: UpstreamEndpoint;
  /** The status sent, or undefined while headers are pending (or the client left during a stall). */
  status?: number;
  requestId: string;
  fault?: UpstreamFault;
}

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** This request's line in the server's request log. */
  readonly entry: UpstreamRequest;
  /** Sends the status line and headers, and records the status. */
  reply(status: number, headers: Record<string, string | number>): void;
  /** Answers 200 with a JSON body. */
  sendJson(body: unknown): void;
  /** Answers with upstream's error body for the status. */
  fail(status: UpstreamErrorStatus, message: string, headers?: Record<string, string>): void;
}

/** Logs the request in `log`, gives it a fresh `request-id` header and returns its exchange. */
export function openExchange(req: IncomingMessage, res: ServerResponse, log: UpstreamRequest[]): Exchange {
  const requestId = `req_${randomBytes(12).toString('hex')}`;
  const url = new URL(req.url ?? '/', 'http://local');
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const entry: UpstreamRequest = { method: req.method ?? 'GET', path, query: url.searchParams, requestId };
  log.push(entry);
  res.setHeader('request-id', requestId);

  const reply = (status: number, headers: Record<string, string | number>): void => {
    entry.status = status;
    res.writeHead(status, headers);
  };
  return {
    req,
    res,
    entry,
    reply,
    sendJson(body) {
      reply(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    },
    fail(status, message, headers = {}) {
      const body = JSON.stringify({
        type: 'error',
        error: { type: ERROR_TYPES[status], message },
        request_id: requestId,
      });
      reply(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    },
  };
}
