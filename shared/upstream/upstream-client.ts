import { Agent } from './undici-parts.js';
import * as z from '../contracts/zod.js';
import { noteUpstreamRequestId, UnsizedFileTooLargeError, UpstreamContractError } from '../platform/errors.js';
import type { FileSource } from '../contracts/ids.js';
import { byteStreamFromReadable } from '../platform/byte-stream.js';
import type { ByteStream } from '../platform/byte-stream.js';
import { headerValue } from './retry-rules.js';
import { createUpstreamGet, toTransportError } from './upstream-request.js';
import type { UpstreamRequestOptions } from './upstream-request.js';
import { normaliseDocument, normaliseMetadata } from './file-metadata.js';
import type { ProjectDocument } from './file-metadata.js';
import type { FileMetadata } from './file-metadata.js';

export { ANTHROPIC_VERSION, FILES_API_BETA } from './upstream-request.js';

/** How requests are sent (headers, gate, errors): upstream-request.ts, shared with the listing client. */
export type UpstreamClientOptions = UpstreamRequestOptions;

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

export type { ProjectDocument };

export interface UpstreamClient {
  fetchMetadata(
    fileId: string,
    source: FileSource,
    signal: AbortSignal,
  ): Promise<{ metadata: FileMetadata; requestId: string | undefined }>;
  openContent(fileId: string, source: FileSource, signal: AbortSignal): Promise<ContentResponse>;
  /**
   * A project document's JSON (`GET /v1/compliance/apps/projects/documents/{id}`), whose `content` is
   * the document. The answer is read up to `maxBytes` (UnsizedFileTooLargeError beyond: upstream
   * publishes no size on this endpoint, so nothing else bounds it).
   */
  fetchDocument(
    documentId: string,
    signal: AbortSignal,
    maxBytes: number,
  ): Promise<{ document: ProjectDocument; requestId: string | undefined }>;
}

/** One keep-alive agent with explicit timeouts, reused for every upstream request. */
export function createUpstreamAgent(
  opts: { connectTimeoutMs?: number; headersTimeoutMs?: number; bodyTimeoutMs?: number } = {},
): Agent {
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
    case 'project_document':
      return `/v1/compliance/apps/projects/documents/${id}`;
    case 'artifact':
      return `/v1/compliance/apps/artifacts/${id}`;
  }
}

/** Builds the client for the Compliance API and the Files API. */
export function createUpstreamClient(opts: UpstreamClientOptions): UpstreamClient {
  const get = createUpstreamGet(opts);

  return {
    async fetchMetadata(fileId, source, signal) {
      const { res, requestId } = await get(metadataPath(fileId, source), [], signal);
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
        const detail = err instanceof z.$ZodError ? err.issues.map((i) => i.path.join('.')).join(', ') : String(err);
        throw noted(
          new UpstreamContractError(`metadata response does not match the documented shape: ${detail}`, err),
          requestId,
        );
      }
    },

    async openContent(fileId, source, signal) {
      const { res, requestId } = await get(`${metadataPath(fileId, source)}/content`, [], signal);
      const body = res.body;
      return {
        // A break carries the `request-id` of the answer it belonged to.
        body: byteStreamFromReadable(body, (err) =>
          noted(toTransportError(err, signal, 'the response body broke off'), requestId),
        ),
        contentMd5: headerValue(res.headers, 'content-md5'),
        contentType: headerValue(res.headers, 'content-type'),
        requestId,
        discard: () => body.destroy(),
      };
    },

    async fetchDocument(documentId, signal, maxBytes) {
      const { res, requestId } = await get(metadataPath(documentId, 'project_document'), [], signal);
      const chunks: Buffer[] = [];
      let read = 0;
      try {
        for await (const chunk of res.body) {
          read += (chunk as Buffer).byteLength;
          // The text arrives inside JSON (escaped, so longer than the document): bound the whole answer.
          if (read > maxBytes) throw noted(new UnsizedFileTooLargeError(maxBytes), requestId);
          chunks.push(chunk as Buffer);
        }
      } catch (err) {
        res.body.destroy();
        if (err instanceof UnsizedFileTooLargeError) throw err;
        throw noted(toTransportError(err, signal, 'the response body broke off'), requestId);
      }
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        throw noted(new UpstreamContractError('document response is not JSON', err), requestId);
      }
      try {
        return { document: normaliseDocument(documentId, json), requestId };
      } catch (err) {
        const detail = err instanceof z.$ZodError ? err.issues.map((i) => i.path.join('.')).join(', ') : String(err);
        throw noted(
          new UpstreamContractError(`document response does not match the documented shape: ${detail}`, err),
          requestId,
        );
      }
    },
  };
}

function noted<E>(err: E, requestId: string | undefined): E {
  noteUpstreamRequestId(err, requestId);
  return err;
}
