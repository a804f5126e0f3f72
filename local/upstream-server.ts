/**
 * A local imitation of the upstream APIs the archiver reads (Compliance API files and chat messages,
 * Files API), as ../shared/docs/upstream-api.md and ../shared/seeds/ document them. It serves the
 * built-in sample for `npm start` and is the fault-injecting upstream of the integration tests.
 *
 * Behaviour worth knowing:
 * - Auth: `x-api-key` must equal the configured key (Compliance paths also accept
 *   `Authorization: Bearer <key>`, as the generated-files seed's example uses); 401 otherwise.
 *   `anthropic-version: 2023-06-01` is required (400); `/v1/files/*` also needs
 *   `anthropic-beta: files-api-2025-04-14` (400).
 * - Every response carries a unique `request-id` and `anthropic-ratelimit-requests-*` headers; error
 *   bodies are `{"type":"error","error":{"type","message"},"request_id"}`.
 * - Content is sent chunked (no Content-Length) with `Content-MD5` over exactly the served bytes.
 * - A Files API file that is not downloadable answers 400 `invalid_request_error` on /content (the
 *   real status is undocumented: a 4xx). An expired generated file has `size_bytes: null` and its
 *   content answers 404.
 * - Faults are queued per (file id, endpoint) and each request consumes at most one, in order.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import {
  ChatIdSchema,
  FilesApiFileIdSchema,
  GeneratedFileIdSchema,
  UploadedFileIdSchema,
  type FileSource,
} from '../shared/contracts/ids.js';
import { encodeRfc5987 } from '../shared/archive/content-disposition.js';
import { closeHttpServer, listenOnLoopback, LOOPBACK_HOST } from './loopback.js';

// Written out here rather than imported from shared/upstream/upstream-client.ts on purpose: this server is the
// tests' model of the documented API, so a wrong value in the client must not also become its own.
export const ANTHROPIC_VERSION = '2023-06-01';
export const FILES_API_BETA = 'files-api-2025-04-14';

/** File bytes: a buffer, or `size` deterministic pseudo-random bytes derived from `seed`. */
export type UpstreamContent = Buffer | GeneratedContent;

/**
 * Bytes produced on the fly (AES-128-CTR keystream keyed by the seed), never held in memory whole;
 * the same `{ size, seed }` always yields the same bytes.
 */
export interface GeneratedContent {
  size: number;
  seed: number;
}

interface UpstreamFileBase {
  id: string;
  filename: string;
  mimeType: string;
  /** RFC 3339; defaults to a fixed instant. */
  createdAt?: string;
  content: UpstreamContent;
}

/** A file Claude generated in a chat (Compliance API). */
export interface GeneratedUpstreamFile extends UpstreamFileBase {
  source: 'generated';
  chatId: string;
  /** The assistant message that produced it (for the messages endpoint); derived when absent. */
  messageId?: string;
  /** The published `md5`: absent means the true hash, null means "no stored hash", a string is sent as is. */
  publishedMd5?: string | null;
  /** Expired: metadata has `size_bytes: null` and content answers 404. */
  expired?: boolean;
}

/** A file a user uploaded to one or more chats (Compliance API). */
export interface UploadedUpstreamFile extends UpstreamFileBase {
  source: 'uploaded';
  /** May be empty: a file is listed in no chat until it is attached. */
  chatIds: string[];
  /** `messageIds[i]` is the message of `chatIds[i]` the file is attached to; derived when absent. */
  messageIds?: string[];
  publishedMd5?: string | null;
}

/** A Files API file. */
export interface FilesApiUpstreamFile extends UpstreamFileBase {
  source: 'files_api';
  downloadable: boolean;
  scope?: { id: string; type: 'session' };
}

export type UpstreamFile = GeneratedUpstreamFile | UploadedUpstreamFile | FilesApiUpstreamFile;

/** Which request of a file a fault applies to; `messages` is keyed by chat id. */
export type UpstreamEndpoint = 'metadata' | 'content' | 'messages';

export type UpstreamErrorStatus = 400 | 401 | 402 | 403 | 404 | 409 | 413 | 429 | 500 | 502 | 503 | 504 | 529;

/** One injected misbehaviour, consumed by one request. */
export type UpstreamFault =
  | {
      /** Answer with this error status and the documented error body. */
      status: UpstreamErrorStatus;
      /** Sets `x-should-retry: true|false`. */
      shouldRetry?: boolean;
      /** Sets `retry-after` (seconds). A 429 without either field sends `retry-after: 0`. */
      retryAfterSeconds?: number;
      /** Sets `retry-after-ms` (and `retry-after` rounded up). */
      retryAfterMs?: number;
    }
  /** Content only: `Content-MD5` is a valid base64 MD5, of other bytes. */
  | { kind: 'wrong-content-md5' }
  /** Content only: serves `afterBytes` bytes, then ends the chunked body cleanly (terminating chunk sent). */
  | { kind: 'truncate'; afterBytes: number }
  /** Content only: serves `afterBytes` bytes, then closes the connection (no terminating chunk). */
  | { kind: 'reset'; afterBytes: number }
  /** Waits `ms` before sending the response headers, then answers normally. */
  | { kind: 'stall'; ms: number };

/** One request the server received. The API key is never recorded. */
export interface UpstreamRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The file or chat id in the path, when the route has one. */
  id?: string;
  endpoint?: UpstreamEndpoint;
  /** The status sent, or undefined while headers are pending (or the client left during a stall). */
  status?: number;
  requestId: string;
  fault?: UpstreamFault;
}

/** Size and hashes of some content, computed in one pass. */
export interface ContentDigest {
  sizeBytes: number;
  md5Hex: string;
  md5Base64: string;
  sha256Hex: string;
}

export interface UpstreamServerOptions {
  apiKey: string;
  files?: UpstreamFile[];
  /** Reported in the rate-limit headers (never enforced; inject 429s instead). Default 600. */
  requestsPerMinute?: number;
}

export interface UpstreamServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** Adds or replaces a file; resolves once its digest is known (a pre-pass over generated content). */
  addFile(file: UpstreamFile): Promise<void>;
  /** Removes a file, as a hard delete upstream does: its requests answer 404 afterwards. */
  removeFile(id: string): void;
  /** Queues faults for the next requests to an endpoint of a file (or chat, for `messages`). */
  injectFault(id: string, endpoint: UpstreamEndpoint, ...faults: UpstreamFault[]): void;
  /** The size and hashes of a file's full content. */
  digestOf(id: string): Promise<ContentDigest>;
  /** Every request received so far, oldest first (a live array). */
  readonly requests: readonly UpstreamRequest[];
  /** How many requests matched the id and endpoint (either may be omitted). */
  requestCount(id?: string, endpoint?: UpstreamEndpoint): number;
  /** Stops the server, cutting open connections and stalls. */
  close(): Promise<void>;
}

const DEFAULT_CREATED_AT = '2025-06-01T12:00:00.000000Z';
const CHUNK_BYTES = 256 * 1024;
const NOT_FOUND_MESSAGE = 'No file found with provided id, or it has already been deleted.';

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

const CONTENT_ONLY_FAULTS = new Set(['wrong-content-md5', 'truncate', 'reset']);

/** Starts the imitation upstream on 127.0.0.1 (free port); resolves once every given file is ready. */
export async function startUpstreamServer(opts: UpstreamServerOptions): Promise<UpstreamServer> {
  const files = new Map<string, { file: UpstreamFile; digest: ContentDigest }>();
  const faults = new Map<string, UpstreamFault[]>();
  const requests: UpstreamRequest[] = [];
  const limit = opts.requestsPerMinute ?? 600;
  const startedAt = Date.now();
  let windowIndex = 0;
  let windowCount = 0;

  const faultKey = (id: string, endpoint: UpstreamEndpoint): string => `${endpoint} ${id}`;

  async function addFile(file: UpstreamFile): Promise<void> {
    validateFile(file);
    const digest = await digestContent(file.content);
    files.set(file.id, { file, digest });
  }

  /** The rate-limit headers; `count` adds this request to the current one-minute window first. */
  function rateLimitHeaders(count: boolean): Record<string, string> {
    const index = Math.floor((Date.now() - startedAt) / 60_000);
    if (index !== windowIndex) {
      windowIndex = index;
      windowCount = 0;
    }
    if (count) windowCount += 1;
    return {
      'anthropic-ratelimit-requests-limit': String(limit),
      'anthropic-ratelimit-requests-remaining': String(Math.max(0, limit - windowCount)),
      'anthropic-ratelimit-requests-reset': new Date(startedAt + (index + 1) * 60_000).toISOString(),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `req_${randomBytes(12).toString('hex')}`;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const entry: UpstreamRequest = { method: req.method ?? 'GET', path, requestId };
    requests.push(entry);
    const route = matchRoute(path);
    if (route) {
      entry.id = route.id;
      entry.endpoint = route.endpoint;
    }
    res.setHeader('request-id', requestId);

    const reply = (status: number, headers: Record<string, string | number>): void => {
      entry.status = status;
      res.writeHead(status, headers);
    };
    const fail = (status: UpstreamErrorStatus, message: string, headers: Record<string, string> = {}): void => {
      const body = JSON.stringify({
        type: 'error',
        error: { type: ERROR_TYPES[status], message },
        request_id: requestId,
      });
      reply(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };

    // Requests failing authentication do not count against the limit; everything after does.
    const authorized = isAuthorized(req, opts.apiKey, path.startsWith('/v1/compliance/'));
    for (const [name, value] of Object.entries(rateLimitHeaders(authorized))) res.setHeader(name, value);
    if (!authorized) {
      fail(401, 'invalid x-api-key');
      return;
    }

    if (req.headers['anthropic-version'] !== ANTHROPIC_VERSION) {
      fail(400, `anthropic-version: header is required and must be ${ANTHROPIC_VERSION}`);
      return;
    }
    if (!route) {
      fail(404, 'Not found');
      return;
    }
    if (req.method !== 'GET') {
      fail(400, `${req.method ?? ''} is not supported on ${path}`);
      return;
    }
    if (route.source === 'files_api' && !hasFilesApiBeta(req)) {
      fail(400, `the Files API requires the anthropic-beta: ${FILES_API_BETA} header`);
      return;
    }

    let fault = faults.get(faultKey(route.id, route.endpoint))?.shift();
    if (fault) entry.fault = fault;
    if (fault && 'kind' in fault && fault.kind === 'stall') {
      const left = new AbortController();
      const onClose = (): void => left.abort();
      res.once('close', onClose);
      try {
        await delay(fault.ms, undefined, { signal: left.signal });
      } catch {
        return; // the client (or close()) gave up during the stall
      } finally {
        res.off('close', onClose);
      }
      fault = undefined;
    }
    if (fault && 'status' in fault) {
      fail(fault.status, `injected ${fault.status}`, faultHeaders(fault));
      return;
    }

    if (route.endpoint === 'messages') {
      const body = buildChatMessages(route.id, [...files.values()]);
      if (!body) {
        fail(404, 'No chat found with provided id, or it has already been deleted.');
        return;
      }
      reply(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      return;
    }

    const stored = files.get(route.id);
    if (!stored || stored.file.source !== route.source) {
      fail(404, NOT_FOUND_MESSAGE);
      return;
    }
    const { file, digest } = stored;
    if (route.endpoint === 'metadata') {
      reply(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(describeFile(file, digest)));
      return;
    }

    if (file.source === 'generated' && file.expired) {
      fail(404, NOT_FOUND_MESSAGE);
      return;
    }
    if (file.source === 'files_api' && !file.downloadable) {
      fail(400, `File ${file.id} is not downloadable`);
      return;
    }
    const contentFault = fault && 'kind' in fault ? fault : undefined;
    const headers: Record<string, string> = {
      'content-type': file.mimeType,
      'content-md5':
        contentFault?.kind === 'wrong-content-md5'
          ? createHash('md5').update('not the served bytes').digest('base64')
          : digest.md5Base64,
    };
    if (file.source === 'uploaded') {
      headers['content-disposition'] = `attachment; filename*=utf-8''${encodeRfc5987(file.filename)}`;
    }
    const cutAt =
      contentFault?.kind === 'truncate' || contentFault?.kind === 'reset'
        ? Math.min(contentFault.afterBytes, digest.sizeBytes)
        : digest.sizeBytes;
    // No Content-Length: Node then sends the body with Transfer-Encoding: chunked, as upstream does.
    reply(200, headers);
    res.flushHeaders();
    const completed = await writeChunks(res, readContent(file.content, cutAt));
    if (!completed) return;
    if (contentFault?.kind === 'reset') {
      // Close the connection without the terminating chunk. end() rather than destroy(): it flushes
      // what is still buffered (the headers, when afterBytes is 0) before the FIN.
      res.socket?.end();
      return;
    }
    res.end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in this server, not an upstream behaviour: make it loud in the test output.
      console.error('upstream-server: request handler failed', err);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"type":"error","error":{"type":"api_error","message":"local upstream bug"}}');
      } else {
        res.destroy();
      }
    });
  });

  for (const file of opts.files ?? []) await addFile(file);
  const port = await listenOnLoopback(server);

  return {
    url: `http://${LOOPBACK_HOST}:${port}`,
    addFile,
    removeFile(id) {
      files.delete(id);
    },
    injectFault(id, endpoint, ...newFaults) {
      for (const f of newFaults) {
        if ('kind' in f && CONTENT_ONLY_FAULTS.has(f.kind) && endpoint !== 'content') {
          throw new Error(`fault ${f.kind} applies to the content endpoint only`);
        }
      }
      const key = faultKey(id, endpoint);
      faults.set(key, [...(faults.get(key) ?? []), ...newFaults]);
    },
    async digestOf(id) {
      const stored = files.get(id);
      if (!stored) throw new Error(`no upstream file ${id}`);
      return stored.digest;
    },
    requests,
    requestCount(id, endpoint) {
      return requests.filter(
        (r) => (id === undefined || r.id === id) && (endpoint === undefined || r.endpoint === endpoint),
      ).length;
    },
    close: () => closeHttpServer(server),
  };
}

interface Route {
  source: FileSource | 'chat';
  id: string;
  endpoint: UpstreamEndpoint;
}

const ROUTES: { pattern: RegExp; source: Route['source']; endpoint?: UpstreamEndpoint }[] = [
  { pattern: /^\/v1\/compliance\/apps\/chats\/generated-files\/([^/]+)(\/content)?$/, source: 'generated' },
  { pattern: /^\/v1\/compliance\/apps\/chats\/files\/([^/]+)(\/content)?$/, source: 'uploaded' },
  { pattern: /^\/v1\/files\/([^/]+)(\/content)?$/, source: 'files_api' },
  { pattern: /^\/v1\/compliance\/apps\/chats\/([^/]+)\/messages$/, source: 'chat', endpoint: 'messages' },
];

function matchRoute(path: string): Route | undefined {
  for (const { pattern, source, endpoint } of ROUTES) {
    const match = pattern.exec(path);
    const rawId = match?.[1];
    if (!match || rawId === undefined) continue;
    let id: string;
    try {
      id = decodeURIComponent(rawId);
    } catch {
      return undefined;
    }
    return { source, id, endpoint: endpoint ?? (match[2] ? 'content' : 'metadata') };
  }
  return undefined;
}

function isAuthorized(req: IncomingMessage, apiKey: string, allowBearer: boolean): boolean {
  if (req.headers['x-api-key'] === apiKey) return true;
  return allowBearer && req.headers.authorization === `Bearer ${apiKey}`;
}

function hasFilesApiBeta(req: IncomingMessage): boolean {
  const header = req.headers['anthropic-beta'];
  const values = (Array.isArray(header) ? header : [header ?? '']).flatMap((h) => h.split(','));
  return values.some((v) => v.trim() === FILES_API_BETA);
}

function faultHeaders(fault: Extract<UpstreamFault, { status: number }>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.shouldRetry !== undefined) headers['x-should-retry'] = String(fault.shouldRetry);
  if (fault.retryAfterMs !== undefined) {
    headers['retry-after-ms'] = String(fault.retryAfterMs);
    headers['retry-after'] = String(Math.ceil(fault.retryAfterMs / 1000));
  }
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  if (fault.status === 429 && headers['retry-after'] === undefined) headers['retry-after'] = '0';
  return headers;
}

function validateFile(file: UpstreamFile): void {
  const idSchema = {
    generated: GeneratedFileIdSchema,
    uploaded: UploadedFileIdSchema,
    files_api: FilesApiFileIdSchema,
  }[file.source];
  if (!idSchema.safeParse(file.id).success) throw new Error(`${file.id} is not a valid ${file.source} file id`);
  const chatIds = file.source === 'generated' ? [file.chatId] : file.source === 'uploaded' ? file.chatIds : [];
  for (const chatId of chatIds) {
    if (!ChatIdSchema.safeParse(chatId).success) throw new Error(`${chatId} is not a valid chat id`);
  }
  const size = contentSize(file.content);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`content size of ${file.id} is invalid`);
}

function publishedMd5(file: GeneratedUpstreamFile | UploadedUpstreamFile, digest: ContentDigest): string | null {
  return file.publishedMd5 === undefined ? digest.md5Hex : file.publishedMd5;
}

/** The metadata JSON of a file, field for field as upstream documents it per source. */
function describeFile(file: UpstreamFile, digest: ContentDigest): Record<string, unknown> {
  const createdAt = file.createdAt ?? DEFAULT_CREATED_AT;
  switch (file.source) {
    case 'generated':
      return {
        id: file.id,
        claude_chat_id: file.chatId,
        created_at: createdAt,
        filename: file.filename,
        md5: publishedMd5(file, digest),
        mime_type: file.mimeType,
        size_bytes: file.expired ? null : digest.sizeBytes,
      };
    case 'uploaded':
      return {
        id: file.id,
        claude_chat_ids: file.chatIds,
        created_at: createdAt,
        filename: file.filename,
        md5: publishedMd5(file, digest),
        message_ids: file.chatIds.map((chatId, i) => uploadMessageId(file, chatId, i)),
        mime_type: file.mimeType,
        size_bytes: digest.sizeBytes,
      };
    case 'files_api':
      return {
        id: file.id,
        created_at: createdAt,
        filename: file.filename,
        mime_type: file.mimeType,
        size_bytes: digest.sizeBytes,
        type: 'file',
        downloadable: file.downloadable,
        ...(file.scope ? { scope: file.scope } : {}),
      };
  }
}

function uploadMessageId(file: UploadedUpstreamFile, chatId: string, index: number): string {
  return file.messageIds?.[index] ?? `claude_chat_msg_${chatId.slice('claude_chat_'.length)}_u${index}`;
}

function generatedMessageId(file: GeneratedUpstreamFile): string {
  return file.messageId ?? `claude_chat_msg_${file.id.slice('claude_gen_file_'.length)}_a`;
}

interface ChatMessage {
  id: string;
  role: 'user' | 'assistant';
  created_at: string;
  content: { type: 'text'; text: string }[];
  files: Record<string, unknown>[];
  generated_files: Record<string, unknown>[];
  artifacts: unknown[];
}

/**
 * The messages endpoint's answer for a chat, derived from the files that belong to it: uploaded
 * files sit on user messages, generated files on assistant messages. Undefined for an unknown chat.
 */
function buildChatMessages(
  chatId: string,
  stored: { file: UpstreamFile; digest: ContentDigest }[],
): Record<string, unknown> | undefined {
  const messages = new Map<string, ChatMessage>();
  const messageFor = (id: string, role: ChatMessage['role'], createdAt: string): ChatMessage => {
    let message = messages.get(id);
    if (!message) {
      message = {
        id,
        role,
        created_at: createdAt,
        content: [{ type: 'text', text: role === 'user' ? 'Here is the file.' : 'I made the file.' }],
        files: [],
        generated_files: [],
        artifacts: [],
      };
      messages.set(id, message);
    }
    return message;
  };
  for (const { file, digest } of stored) {
    const createdAt = file.createdAt ?? DEFAULT_CREATED_AT;
    if (file.source === 'generated' && file.chatId === chatId) {
      messageFor(generatedMessageId(file), 'assistant', createdAt).generated_files.push({
        id: file.id,
        filename: file.filename,
        md5: publishedMd5(file, digest),
        mime_type: file.mimeType,
        size_bytes: file.expired ? null : digest.sizeBytes,
      });
    }
    if (file.source === 'uploaded') {
      const index = file.chatIds.indexOf(chatId);
      if (index < 0) continue;
      messageFor(uploadMessageId(file, chatId, index), 'user', createdAt).files.push({
        id: file.id,
        created_at: createdAt,
        filename: file.filename,
        md5: publishedMd5(file, digest),
        mime_type: file.mimeType,
        size_bytes: digest.sizeBytes,
      });
    }
  }
  if (messages.size === 0) return undefined;
  const ordered = [...messages.values()].sort(
    (a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id),
  );
  const first = ordered[0];
  const last = ordered[ordered.length - 1];
  return {
    id: chatId,
    name: `Local chat ${chatId.slice('claude_chat_'.length)}`,
    created_at: first?.created_at ?? DEFAULT_CREATED_AT,
    updated_at: last?.created_at ?? DEFAULT_CREATED_AT,
    deleted_at: null,
    href: `https://claude.ai/chat/${chatId}`,
    model: 'claude-sonnet-4-5',
    organization_uuid: '00000000-0000-4000-8000-000000000001',
    project_id: null,
    user: { id: 'user_01LocalSampleUser', email_address: 'sample.user@example.com' },
    chat_messages: ordered,
    has_more: false,
    first_id: first?.id ?? null,
    last_id: last?.id ?? null,
  };
}

/** Writes chunks, waiting for each to be handed to the socket; false if the client went away. */
async function writeChunks(res: ServerResponse, chunks: Iterable<Buffer>): Promise<boolean> {
  for (const chunk of chunks) {
    if (res.destroyed) return false;
    const written = await new Promise<boolean>((resolve) => {
      const onClose = (): void => resolve(false);
      res.once('close', onClose);
      res.write(chunk, (err) => {
        res.off('close', onClose);
        resolve(!err);
      });
    });
    if (!written) return false;
  }
  return true;
}

function contentSize(content: UpstreamContent): number {
  return Buffer.isBuffer(content) ? content.length : content.size;
}

/**
 * Yields the first `limit` bytes of the content (all of it by default) in chunks of at most
 * 256 KiB, generating pseudo-random content as it goes.
 */
export function* readContent(content: UpstreamContent, limit = contentSize(content)): Generator<Buffer> {
  const end = Math.min(limit, contentSize(content));
  if (Buffer.isBuffer(content)) {
    for (let offset = 0; offset < end; offset += CHUNK_BYTES) {
      yield content.subarray(offset, Math.min(end, offset + CHUNK_BYTES));
    }
    return;
  }
  const key = createHash('sha256').update(`upstream-content:${content.seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK_BYTES);
  for (let offset = 0; offset < end; offset += CHUNK_BYTES) {
    yield cipher.update(zeros.subarray(0, Math.min(CHUNK_BYTES, end - offset)));
  }
}

// A generated file's digest needs a pass over all its bytes (seconds for 1 GB): do it once per
// process for a given size and seed.
const generatedDigests = new Map<string, Promise<ContentDigest>>();

/** Size, MD5 and SHA-256 of the content; cached for generated content. */
export function digestContent(content: UpstreamContent): Promise<ContentDigest> {
  if (Buffer.isBuffer(content)) {
    const md5 = createHash('md5').update(content).digest();
    return Promise.resolve(finishDigest(md5, createHash('sha256').update(content).digest('hex'), content.length));
  }
  const key = `${content.size}:${content.seed}`;
  let digest = generatedDigests.get(key);
  if (!digest) {
    digest = hashGeneratedContent(content);
    generatedDigests.set(key, digest);
  }
  return digest;
}

async function hashGeneratedContent(content: GeneratedContent): Promise<ContentDigest> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let sizeBytes = 0;
  let sinceYield = 0;
  for (const chunk of readContent(content)) {
    md5.update(chunk);
    sha256.update(chunk);
    sizeBytes += chunk.length;
    sinceYield += chunk.length;
    // Let the event loop breathe so a 1 GB pre-pass does not freeze other servers in the process.
    if (sinceYield >= 64 * 1024 * 1024) {
      sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return finishDigest(md5.digest(), sha256.digest('hex'), sizeBytes);
}

function finishDigest(md5: Buffer, sha256Hex: string, sizeBytes: number): ContentDigest {
  return { sizeBytes, md5Hex: md5.toString('hex'), md5Base64: md5.toString('base64'), sha256Hex };
}
