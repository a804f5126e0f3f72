/**
 * The files the sample upstream holds, one shape per upstream source, and the facts derived from
 * them that more than one endpoint publishes (the `md5` field, message ids, the creation time).
 */
import {
  ArtifactIdSchema,
  ArtifactVersionIdSchema,
  ChatIdSchema,
  FilesApiFileIdSchema,
  GeneratedFileIdSchema,
  UploadedFileIdSchema,
} from '../../shared/contracts/ids.js';
import { contentSize, digestContent, type ContentDigest, type SampleContent } from './content.js';

interface UpstreamFileBase {
  id: string;
  filename: string;
  mimeType: string;
  /** RFC 3339; defaults to a fixed instant. */
  createdAt?: string;
  content: SampleContent;
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
  /** Metadata has `size_bytes: null` (upstream does not know it) but the content is served. */
  sizeUnpublished?: boolean;
}

/** A file a user uploaded to one or more chats (Compliance API). */
export interface UploadedUpstreamFile extends UpstreamFileBase {
  source: 'uploaded';
  /** May be empty: a file is listed in no chat until it is attached. */
  chatIds: string[];
  /** `messageIds[i]` is the message of `chatIds[i]` the file is attached to; derived when absent. */
  messageIds?: string[];
  publishedMd5?: string | null;
  /** Metadata has `size_bytes: null` (upstream does not know it) but the content is served. */
  sizeUnpublished?: boolean;
}

/** A Files API file. */
export interface FilesApiUpstreamFile extends UpstreamFileBase {
  source: 'files_api';
  downloadable: boolean;
  scope?: { id: string; type: 'session' };
}

/**
 * One version of an artifact Claude wrote in a chat (`id` is the version id). Its metadata's `id` is
 * the artifact's; `filename` is its title; `mimeType` its `artifact_type`.
 */
export interface ArtifactUpstreamFile extends UpstreamFileBase {
  source: 'artifact';
  artifactId: string;
  chatId: string;
  /** The assistant message it was written in; derived when absent. */
  messageId?: string;
  /** The metadata `md5`, when it should not be the true hash of the text. */
  publishedMd5?: string;
}

export type UpstreamFile = GeneratedUpstreamFile | UploadedUpstreamFile | FilesApiUpstreamFile | ArtifactUpstreamFile;

/** A file with the digest of its full content, computed when it was added. */
export interface StoredFile {
  file: UpstreamFile;
  digest: ContentDigest;
}

export const DEFAULT_CREATED_AT = '2025-06-01T12:00:00.000000Z';

/** Every file the server holds, by id. */
export class FileCatalogue {
  private readonly files = new Map<string, StoredFile>();

  /** Adds or replaces a file once its ids are valid and its digest is known. */
  async add(file: UpstreamFile): Promise<void> {
    validateFile(file);
    const digest = await digestContent(file.content);
    this.files.set(file.id, { file, digest });
  }

  remove(id: string): void {
    this.files.delete(id);
  }

  get(id: string): StoredFile | undefined {
    return this.files.get(id);
  }

  all(): StoredFile[] {
    return [...this.files.values()];
  }
}

function validateFile(file: UpstreamFile): void {
  const idSchema = {
    generated: GeneratedFileIdSchema,
    uploaded: UploadedFileIdSchema,
    files_api: FilesApiFileIdSchema,
    artifact: ArtifactVersionIdSchema,
  }[file.source];
  if (file.source === 'artifact' && !ArtifactIdSchema.safeParse(file.artifactId).success)
    throw new Error(`${file.artifactId} is not a valid artifact id`);
  if (!idSchema.safeParse(file.id).success) throw new Error(`${file.id} is not a valid ${file.source} file id`);
  const chatIds =
    file.source === 'generated' || file.source === 'artifact'
      ? [file.chatId]
      : file.source === 'uploaded'
        ? file.chatIds
        : [];
  for (const chatId of chatIds) {
    if (!ChatIdSchema.safeParse(chatId).success) throw new Error(`${chatId} is not a valid chat id`);
  }
  const size = contentSize(file.content);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`content size of ${file.id} is invalid`);
}

export function createdAtOf(file: UpstreamFile): string {
  return file.createdAt ?? DEFAULT_CREATED_AT;
}

/** The `md5` field as published for a Compliance API file. */
export function publishedMd5(file: GeneratedUpstreamFile | UploadedUpstreamFile, digest: ContentDigest): string | null {
  return file.publishedMd5 === undefined ? digest.md5Hex : file.publishedMd5;
}

/** The `size_bytes` field as published for a Compliance API file: null when expired or not known. */
export function publishedSize(
  file: GeneratedUpstreamFile | UploadedUpstreamFile,
  digest: ContentDigest,
): number | null {
  if (file.sizeUnpublished || (file.source === 'generated' && file.expired)) return null;
  return digest.sizeBytes;
}

/** The user message of `chatId` an uploaded file is attached to (`index` is the chat's position). */
export function uploadMessageId(file: UploadedUpstreamFile, chatId: string, index: number): string {
  return file.messageIds?.[index] ?? `claude_chat_msg_${chatId.slice('claude_chat_'.length)}_u${index}`;
}

/** The assistant message an artifact version was written in. */
export function artifactMessageId(file: ArtifactUpstreamFile): string {
  return file.messageId ?? `claude_chat_msg_${file.id.slice('claude_artifact_version_'.length)}_a`;
}

/** The assistant message that produced a generated file. */
export function generatedMessageId(file: GeneratedUpstreamFile): string {
  return file.messageId ?? `claude_chat_msg_${file.id.slice('claude_gen_file_'.length)}_a`;
}
