import { createHash } from 'node:crypto';
import type { FileSource } from '../../../shared/contracts/ids.js';
import { UpstreamHttpError } from '../../../shared/platform/errors.js';
import type { FileMetadata } from '../../../shared/upstream/file-metadata.js';
import type { ContentResponse, ProjectDocument, UpstreamClient } from '../../../shared/upstream/upstream-client.js';
import { UnsizedFileTooLargeError } from '../../../shared/platform/errors.js';

export interface ScriptedFile {
  metadata: FileMetadata;
  content: Buffer;
  /** Sent as Content-MD5; defaults to the MD5 of `content`. Null: no header. */
  contentMd5?: string | null;
}

type Call = 'metadata' | 'content' | 'document';

/**
 * The upstream as a script: files it knows, and errors to throw on the next calls for a file. An
 * unknown file answers 404, as upstream does for a deleted or expired one.
 */
export class ScriptedUpstream implements UpstreamClient {
  private readonly files = new Map<string, ScriptedFile>();
  private readonly documents = new Map<string, ProjectDocument>();
  private readonly failures = new Map<string, unknown[]>();
  private readonly calls = new Map<string, number>();
  discarded = 0;

  add(file: ScriptedFile): void {
    this.files.set(file.metadata.fileId, file);
  }

  addDocument(document: ProjectDocument): void {
    this.documents.set(document.id, document);
  }

  /** The next calls of this kind for `fileId` throw these errors, in order. */
  fail(fileId: string, call: Call, ...errors: unknown[]): void {
    this.failures.set(`${fileId}:${call}`, [...(this.failures.get(`${fileId}:${call}`) ?? []), ...errors]);
  }

  requests(fileId: string, call: Call): number {
    return this.calls.get(`${fileId}:${call}`) ?? 0;
  }

  async fetchMetadata(
    fileId: string,
    _source: FileSource,
    signal: AbortSignal,
  ): Promise<{ metadata: FileMetadata; requestId: string | undefined }> {
    const file = this.answer(fileId, 'metadata', signal);
    return { metadata: structuredClone(file.metadata), requestId: 'req_metadata' };
  }

  async openContent(fileId: string, _source: FileSource, signal: AbortSignal): Promise<ContentResponse> {
    const file = this.answer(fileId, 'content', signal);
    const md5 =
      file.contentMd5 === undefined
        ? createHash('md5').update(file.content).digest('base64')
        : (file.contentMd5 ?? undefined);
    const content = file.content;
    return {
      body: (async function* () {
        // Two chunks, so that consumers see a stream rather than one buffer.
        yield content.subarray(0, Math.floor(content.length / 2));
        yield content.subarray(Math.floor(content.length / 2));
      })(),
      contentMd5: md5,
      contentType: file.metadata.mimeType ?? undefined,
      requestId: 'req_content',
      discard: () => {
        this.discarded += 1;
      },
    };
  }

  async fetchDocument(
    documentId: string,
    signal: AbortSignal,
    maxBytes: number,
  ): Promise<{ document: ProjectDocument; requestId: string | undefined }> {
    this.count(documentId, 'document', signal);
    const document = this.documents.get(documentId);
    if (!document) throw new UpstreamHttpError(404, 'not_found_error', 'req_document_404', { retryable: false });
    if (Buffer.byteLength(JSON.stringify(document)) > maxBytes) throw new UnsizedFileTooLargeError(maxBytes);
    return { document: structuredClone(document), requestId: 'req_document' };
  }

  private count(fileId: string, call: Call, signal: AbortSignal): void {
    signal.throwIfAborted();
    const key = `${fileId}:${call}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const queued = this.failures.get(key);
    if (queued && queued.length > 0) throw queued.shift();
  }

  private answer(fileId: string, call: Call, signal: AbortSignal): ScriptedFile {
    this.count(fileId, call, signal);
    const file = this.files.get(fileId);
    if (!file) throw new UpstreamHttpError(404, 'not_found_error', `req_${call}_404`, { retryable: false });
    return file;
  }
}

/** Metadata for a Compliance API generated file of `content`, in chat `chatId`. */
export function generatedFile(fileId: string, content: Buffer, overrides: Partial<FileMetadata> = {}): ScriptedFile {
  return {
    content,
    metadata: {
      fileId,
      source: 'generated',
      chatIds: ['claude_chat_01Unit'],
      filename: 'report.csv',
      md5Hex: createHash('md5').update(content).digest('hex'),
      mimeType: 'text/csv',
      sizeBytes: content.length,
      createdAt: '2026-01-01T00:00:00Z',
      downloadable: true,
      ...overrides,
    },
  };
}
