/**
 * A file's metadata and content endpoints, per source. Content goes out chunked (no Content-Length)
 * with `Content-MD5` over exactly the served bytes, as upstream sends it. A Files API file that is not
 * downloadable answers 400 `invalid_request_error` on /content (upstream documents only "a 4xx"); an
 * expired generated file has `size_bytes: null` and its content answers 404; a file whose size is
 * unpublished (`sizeUnpublished`) has `size_bytes: null` and its content is served.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FileSource } from '../../shared/contracts/ids.js';
import {
  createdAtOf,
  publishedMd5,
  publishedSize,
  uploadMessageId,
  type StoredFile,
  type UpstreamFile,
} from './catalogue.js';
import type { ContentDigest } from './content.js';
import { readContent } from './content.js';
import type { RouteContext } from './routes.js';

const NOT_FOUND_MESSAGE = 'No file found with provided id, or it has already been deleted.';

/** The file when it exists under this source; otherwise answers 404 and returns undefined. */
function findFile({ exchange, id, catalogue }: RouteContext, source: FileSource): StoredFile | undefined {
  const stored = catalogue.get(id);
  if (stored && stored.file.source === source) return stored;
  exchange.fail(404, NOT_FOUND_MESSAGE);
  return undefined;
}

export function serveFileMetadata(ctx: RouteContext, source: FileSource): void {
  const stored = findFile(ctx, source);
  if (stored) ctx.exchange.sendJson(describeFile(stored.file, stored.digest));
}

export async function serveFileContent(ctx: RouteContext, source: FileSource): Promise<void> {
  const stored = findFile(ctx, source);
  if (!stored) return;
  const { exchange, contentFault } = ctx;
  const { file, digest } = stored;
  if (file.source === 'generated' && file.expired) {
    exchange.fail(404, NOT_FOUND_MESSAGE);
    return;
  }
  if (file.source === 'files_api' && !file.downloadable) {
    exchange.fail(400, `File ${file.id} is not downloadable`);
    return;
  }
  const headers: Record<string, string> = { 'content-type': file.mimeType };
  // No Content-MD5 is documented for artifact content: the sample sends none, so the metadata md5
  // (over the UTF-8 text) is what the archiver verifies artifacts against.
  if (contentFault?.kind !== 'no-content-md5' && file.source !== 'artifact') {
    headers['content-md5'] =
      contentFault?.kind === 'wrong-content-md5'
        ? createHash('md5').update('not the served bytes').digest('base64')
        : digest.md5Base64;
  }
  if (file.source === 'uploaded') {
    headers['content-disposition'] = `attachment; filename*=utf-8''${percentEncodeAllButUnreserved(file.filename)}`;
  }
  const cutAt =
    contentFault?.kind === 'truncate' || contentFault?.kind === 'reset'
      ? Math.min(contentFault.afterBytes, digest.sizeBytes)
      : digest.sizeBytes;
  // No Content-Length: Node then sends the body with Transfer-Encoding: chunked, as upstream does.
  exchange.reply(200, headers);
  exchange.res.flushHeaders();
  const completed = await writeChunks(exchange.res, readContent(file.content, cutAt));
  if (!completed) return;
  if (contentFault?.kind === 'reset') {
    // Close the connection without the terminating chunk. end() rather than destroy(): it flushes
    // what is still buffered (the headers, when afterBytes is 0) before the FIN.
    exchange.res.socket?.end();
    return;
  }
  exchange.res.end();
}

/** The metadata JSON of a file, field for field as upstream documents it per source. */
function describeFile(file: UpstreamFile, digest: ContentDigest): Record<string, unknown> {
  const createdAt = createdAtOf(file);
  switch (file.source) {
    case 'generated':
      return {
        id: file.id,
        claude_chat_id: file.chatId,
        created_at: createdAt,
        filename: file.filename,
        md5: publishedMd5(file, digest),
        mime_type: file.mimeType,
        size_bytes: publishedSize(file, digest),
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
        size_bytes: publishedSize(file, digest),
      };
    case 'artifact':
      return {
        id: file.artifactId,
        version_id: file.id,
        claude_chat_id: file.chatId,
        created_at: createdAt,
        title: file.filename,
        artifact_type: file.mimeType,
        md5: file.publishedMd5 ?? digest.md5Hex,
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

/**
 * An RFC 5987 ext-value that leaves only RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`)
 * literal. RFC 5987 also allows `!#$&+^`|` literally, and the archiver's own encoder
 * (shared/archive/content-disposition.ts, `encodeRfc5987`) keeps `!` literal; a server may encode
 * more than it must, and the archiver never reads this header (it names files from the metadata), so
 * the sample keeps its own stricter encoder rather than echoing ours.
 */
function percentEncodeAllButUnreserved(value: string): string {
  return encodeURIComponent(value).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
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
