import { z } from 'zod';

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
export const MessageIdSchema = taggedId('claude_chat_msg_');
export const ProjectIdSchema = taggedId('claude_proj_').refine((id) => !id.startsWith('claude_proj_doc_'), {
  message: 'must be a claude_proj_… id, not a document id',
});
/** A project document (`claude_proj_doc_…`): text whose content comes in a JSON answer, archived as a file. */
export const ProjectDocumentIdSchema = taggedId('claude_proj_doc_');

/**
 * Which upstream API holds a file; selected by the id's prefix. `project_document` is a project's
 * text document, whose content comes in the JSON of the documents endpoint (archived as its UTF-8 bytes).
 */
export type FileSource = 'generated' | 'uploaded' | 'files_api' | 'project_document';

export const FileIdSchema = z.union(
  [GeneratedFileIdSchema, UploadedFileIdSchema, FilesApiFileIdSchema, ProjectDocumentIdSchema],
  { error: 'must be a claude_gen_file_…, claude_file_…, file_… or claude_proj_doc_… id' },
);

/** Returns the source a valid file id belongs to. The prefixes do not overlap. */
export function sourceOfFileId(fileId: string): FileSource {
  if (fileId.startsWith('claude_gen_file_')) return 'generated';
  if (fileId.startsWith('claude_file_')) return 'uploaded';
  if (fileId.startsWith('file_')) return 'files_api';
  if (fileId.startsWith('claude_proj_doc_')) return 'project_document';
  throw new Error('unknown file id prefix');
}
