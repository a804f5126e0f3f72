import type { Dispatcher } from 'undici';
import { request } from './undici-parts.js';
import { assertUpstreamBaseUrl } from '../contracts/upstream-base-url.js';
import {
  UpstreamAuthError,
  UpstreamHttpError,
  UpstreamRateLimitedError,
  UpstreamTransportError,
} from '../platform/errors.js';
import type { ApiKeyProvider } from './api-key.js';
import { apiOfPath } from './request-gate.js';
import type { RequestGate } from './request-gate.js';
import { headerValue, isRetryableStatus, parseRetryAfterMs, shouldRetryOverride } from './retry-rules.js';
import type { HeaderBag } from './retry-rules.js';

export const ANTHROPIC_VERSION = '2023-06-01';
export const FILES_API_BETA = 'files-api-2025-04-14';

/** What every upstream GET needs: shared by the ingest client (upstream-client.ts) and discovery's listing client. */
export interface UpstreamRequestOptions {
  baseUrl: string;
  /** The key itself (local runs), or a provider that can re-read it after upstream refuses it. */
  apiKey: string | ApiKeyProvider;
  /** Shared keep-alive agent; built by `createUpstreamAgent` once per process. */
  dispatcher: Dispatcher;
  /** Called once per request with the time to response headers, for metrics. */
  onResponse?: (info: { status: number; latencyMs: number; requestId: string | undefined }) => void;
  /** Asked before every request and told about every 429: the shared rate budget, when configured. */
  gate?: RequestGate;
  now?: () => number;
}

/** Sends one GET to `path` (with `query`) and resolves with a 2xx answer, its body unread. */
export type UpstreamGet = (
  path: string,
  query: readonly [string, string][],
  signal: AbortSignal,
) => Promise<{ res: Dispatcher.ResponseData; requestId: string | undefined }>;

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * The one way a request goes upstream: the key and version headers (the Files API's beta header for
 * `/v1/files` paths), a grant from the gate first, the latency reported, transport failures and
 * non-2xx answers mapped to the error hierarchy; a 429 is told to the gate, and a refused key makes a
 * key provider read it again.
 */
export function createUpstreamGet(opts: UpstreamRequestOptions): UpstreamGet {
  const now = opts.now ?? Date.now;
  // The last line of defence for the key: whatever configuration built the client, it never sends
  // `x-api-key` over plain HTTP to another machine.
  const base = new URL(assertUpstreamBaseUrl(opts.baseUrl));
  return async (path, query, signal) => {
    const apiKey = typeof opts.apiKey === 'string' ? opts.apiKey : await opts.apiKey.current();
    const headers: Record<string, string> = { 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION };
    const api = apiOfPath(path);
    if (api === 'files_api') headers['anthropic-beta'] = FILES_API_BETA;
    const url = new URL(base.pathname.replace(/\/$/, '') + path, base);
    for (const [k, v] of query) url.searchParams.append(k, v);
    await opts.gate?.admit(api, signal);
    const started = now();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(opts.dispatcher, url, { method: 'GET', headers, signal });
    } catch (err) {
      throw toTransportError(err, signal);
    }
    const requestId = headerValue(res.headers, 'request-id');
    opts.onResponse?.({ status: res.statusCode, latencyMs: now() - started, requestId });
    if (res.statusCode >= 200 && res.statusCode < 300) return { res, requestId };
    const error = await toHttpError(res, requestId, now());
    if (error instanceof UpstreamRateLimitedError) await opts.gate?.throttled(api, error.retryAfterMs);
    if (error instanceof UpstreamAuthError && typeof opts.apiKey !== 'string') opts.apiKey.refresh();
    throw error;
  };
}

export function toTransportError(err: unknown, signal: AbortSignal, context = 'upstream request failed'): unknown {
  if (signal.aborted) return signal.reason;
  const code = errorCode(err);
  return new UpstreamTransportError(`${context}${code ? ` (${code})` : ''}`, code, err);
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Maps a non-2xx answer to the error hierarchy (reads at most 64 KiB of the body for `error.type`). */
export async function toHttpError(
  res: Dispatcher.ResponseData,
  requestId: string | undefined,
  nowMs: number,
): Promise<UpstreamHttpError> {
  const headers = res.headers as HeaderBag;
  const errorType = await readErrorType(res);
  const status = res.statusCode;
  // `x-should-retry` overrides the status for every status, 429, 401 and 403 included, as the official SDK's does.
  const opts = {
    retryable: isRetryableStatus(status, headers),
    retryAfterMs: parseRetryAfterMs(headers, nowMs),
    shouldRetry: shouldRetryOverride(headers),
  };
  if (status === 429) return new UpstreamRateLimitedError(status, errorType, requestId, opts);
  if (status === 401 || status === 403) return new UpstreamAuthError(status, errorType, requestId, opts);
  return new UpstreamHttpError(status, errorType, requestId, opts);
}

/** Reads `error.type` from an error body, bounded in size; the message is never used for decisions. */
async function readErrorType(res: Dispatcher.ResponseData): Promise<string | undefined> {
  let text = '';
  try {
    for await (const chunk of res.body) {
      text += Buffer.from(chunk).toString('utf8');
      if (text.length > MAX_ERROR_BODY_BYTES) {
        res.body.destroy();
        return undefined;
      }
    }
    const json: unknown = JSON.parse(text);
    if (typeof json === 'object' && json !== null && 'error' in json) {
      const inner = json.error;
      if (typeof inner === 'object' && inner !== null && 'type' in inner && typeof inner.type === 'string') {
        return inner.type.slice(0, 64);
      }
    }
  } catch {
    // Not JSON, or the connection broke while reading an error: the status alone decides.
  }
  return undefined;
}
