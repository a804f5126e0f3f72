import * as z from 'zod';

/**
 * Upstream ids are opaque "tagged ids" (a prefix plus letters and digits). No length or alphabet is
 * documented, so they are validated defensively: known prefix, a conservative character class and a
 * length bound. A validated id is safe to place in a URL path, an S3 key and a DynamoDB key.
 */
const ID_BODY = '[A-Za-z0-9_-]{1,200}';

function taggedId(prefix: string) {
  return z.string().regex(new RegExp(`^${prefix}${ID_BODY}$`), { message: `must be a ${prefix}… id` });
}

export const GeneratedFileIdSchema = taggedId('claude_gen_file_');
export const UploadedFileIdSchema = taggedId('claude_file_');
export const FilesApiFileIdSchema = taggedId('file_');
export const ChatIdSchema = taggedId('claude_chat_');

/** Which upstream API holds a file; selected by the id's prefix. */
export type FileSource = 'generated' | 'uploaded' | 'files_api';

export const FileIdSchema = z.union([GeneratedFileIdSchema, UploadedFileIdSchema, FilesApiFileIdSchema], {
  error: 'must be a claude_gen_file_…, claude_file_… or file_… id',
});

/** Returns the source a valid file id belongs to. The prefixes do not overlap. */
export function sourceOfFileId(fileId: string): FileSource {
  if (fileId.startsWith('claude_gen_file_')) return 'generated';
  if (fileId.startsWith('claude_file_')) return 'uploaded';
  if (fileId.startsWith('file_')) return 'files_api';
  throw new Error('unknown file id prefix');
}
