import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { ZodError } from 'zod';
import {
  noteUpstreamRequestId,
  UpstreamAuthError,
  UpstreamContractError,
  UpstreamHttpError,
  UpstreamRateLimitedError,
  UpstreamTransportError,
} from '../platform/errors.js';
import type { ApiKeyProvider } from './api-key.js';
import { apiOfPath } from './request-gate.js';
import type { RequestGate } from './request-gate.js';
import type { FileSource } from '../contracts/ids.js';
import { byteStreamFromReadable } from '../platform/byte-stream.js';
import type { ByteStream } from '../platform/byte-stream.js';
import { assertUpstreamBaseUrl } from '../contracts/upstream-base-url.js';
import { headerValue, isRetryableStatus, parseRetryAfterMs, shouldRetryOverride } from './retry-rules.js';
import type { HeaderBag } from './retry-rules.js';
import { normaliseMetadata } from './file-metadata.js';
import type { FileMetadata } from './file-metadata.js';

export const ANTHROPIC_VERSION = '2023-06-01';
export const FILES_API_BETA = 'files-api-2025-04-14';

export interface UpstreamClientOptions {
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

/** The answer to a content request: the body as it streams, and the headers the integrity checks use. */
export interface ContentResponse {
  /** The body, as a stream of chunks; errors while reading surface as UpstreamTransportError. */
  body: ByteStream;
  /** Base64 MD5 from `Content-MD5`, when the server sent one. */
  contentMd5: string | undefined;
  contentType: string | undefined;
  requestId: string | undefined;
  /** Releases the connection when the body is not read to the end. */
  discard(): void;
}

export interface UpstreamClient {
  fetchMetadata(
    fileId: string,
    source: FileSource,
    signal: AbortSignal,
  ): Promise<{ metadata: FileMetadata; requestId: string | undefined }>;
  openContent(fileId: string, source: FileSource, signal: AbortSignal): Promise<ContentResponse>;
}

/** One keep-alive agent with explicit timeouts, reused for every upstream request. */
export function createUpstreamAgent(opts: { connectTimeoutMs?: number; headersTimeoutMs?: number; bodyTimeoutMs?: number } = {}): Agent {
  return new Agent({
    connect: { timeout: opts.connectTimeoutMs ?? 10_000 },
    headersTimeout: opts.headersTimeoutMs ?? 30_000,
    // Time allowed between two body chunks, not for the whole body: large files stream for minutes.
    bodyTimeout: opts.bodyTimeoutMs ?? 60_000,
    keepAliveTimeout: 30_000,
  });
}

/** The path of a file's metadata under the upstream base URL. Ids are validated before they get here. */
export function metadataPath(fileId: string, source: FileSource): string {
  const id = encodeURIComponent(fileId);
  switch (source) {
    case 'generated':
      return `/v1/compliance/apps/chats/generated-files/${id}`;
    case 'uploaded':
      return `/v1/compliance/apps/chats/files/${id}`;
    case 'files_api':
      return `/v1/files/${id}`;
  }
}

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Builds the client for the Compliance API and the Files API. */
export function createUpstreamClient(opts: UpstreamClientOptions): UpstreamClient {
  const now = opts.now ?? Date.now;
  // The last line of defence for the key: whatever configuration built this client, it never sends
  // `x-api-key` over plain HTTP to another machine.
  const base = new URL(assertUpstreamBaseUrl(opts.baseUrl));

  async function send(path: string, source: FileSource, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const apiKey = typeof opts.apiKey === 'string' ? opts.apiKey : await opts.apiKey.current();
    const headers: Record<string, string> = {
      'x-api-key': apiKey,
      'anthropic-version': ANTHROPIC_VERSION,
    };
    if (source === 'files_api') headers['anthropic-beta'] = FILES_API_BETA;
    const url = new URL(base.pathname.replace(/\/$/, '') + path, base);
    await opts.gate?.admit(apiOfPath(path), signal);
    const started = now();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method: 'GET', headers, dispatcher: opts.dispatcher, signal });
    } catch (err) {
      throw toTransportError(err, signal);
    }
    const requestId = headerValue(res.headers, 'request-id');
    opts.onResponse?.({ status: res.statusCode, latencyMs: now() - started, requestId });
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    const error = await toHttpError(res, requestId, now());
    if (error instanceof UpstreamRateLimitedError) await opts.gate?.throttled(apiOfPath(path), error.retryAfterMs);
    if (error instanceof UpstreamAuthError && typeof opts.apiKey !== 'string') opts.apiKey.refresh();
    throw error;
  }

  return {
    async fetchMetadata(fileId, source, signal) {
      const res = await send(metadataPath(fileId, source), source, signal);
      const requestId = headerValue(res.headers, 'request-id');
      let json: unknown;
      try {
        json = await res.body.json();
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw noted(new UpstreamContractError('metadata response is not JSON', err), requestId);
      }
      try {
        return { metadata: normaliseMetadata(fileId, source, json), requestId };
      } catch (err) {
        const detail = err instanceof ZodError ? err.issues.map((i) => i.path.join('.')).join(', ') : String(err);
        throw noted(new UpstreamContractError(`metadata response does not match the documented shape: ${detail}`, err), requestId);
      }
    },

    async openContent(fileId, source, signal) {
      const res = await send(`${metadataPath(fileId, source)}/content`, source, signal);
      const body = res.body;
      const requestId = headerValue(res.headers, 'request-id');
      return {
        // A break carries the `request-id` of the answer it belonged to.
        body: byteStreamFromReadable(body, (err) => noted(toTransportError(err, signal, 'the response body broke off'), requestId)),
        contentMd5: headerValue(res.headers, 'content-md5'),
        contentType: headerValue(res.headers, 'content-type'),
        requestId,
        discard: () => body.destroy(),
      };
    },
  };
}

function noted<E>(err: E, requestId: string | undefined): E {
  noteUpstreamRequestId(err, requestId);
  return err;
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
export async function toHttpError(res: Dispatcher.ResponseData, requestId: string | undefined, nowMs: number): Promise<UpstreamHttpError> {
  const headers = res.headers as HeaderBag;
  const errorType = await readErrorType(res);
  const status = res.statusCode;
  // `x-should-retry` overrides the status for every status, 429, 401 and 403 included, as the official SDK's does.
  const opts = { retryable: isRetryableStatus(status, headers), retryAfterMs: parseRetryAfterMs(headers, nowMs), shouldRetry: shouldRetryOverride(headers) };
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
