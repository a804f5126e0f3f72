import * as z from './zod.js';

/**
 * Upstream ids are opaque "tagged ids" (a prefix plus letters and digits). No length or alphabet is
 * documented, so they are validated defensively: known prefix, a conservative character class and a
 * length bound. A validated id is safe to place in a URL path, an S3 key and a DynamoDB key.
 */
const ID_BODY = '[A-Za-z0-9_-]{1,200}';

function taggedId(prefix: string) {
  return z.string().check(z.regex(new RegExp(`^${prefix}${ID_BODY}$`), { message: `must be a ${prefix}… id` }));
}

export const GeneratedFileIdSchema = taggedId('claude_gen_file_');
export const UploadedFileIdSchema = taggedId('claude_file_');
export const FilesApiFileIdSchema = taggedId('file_');
export const ChatIdSchema = taggedId('claude_chat_');
export const MessageIdSchema = taggedId('claude_chat_msg_');
export const ProjectIdSchema = taggedId('claude_proj_').check(
  z.refine((id) => !id.startsWith('claude_proj_doc_'), { message: 'must be a claude_proj_… id, not a document id' }),
);
/** An artifact (`claude_artifact_…`): the versioned document; each of its versions is archived as a file. */
export const ArtifactIdSchema = taggedId('claude_artifact_').check(
  z.refine((id) => !id.startsWith('claude_artifact_version_'), {
    message: 'must be a claude_artifact_… id, not a version id',
  }),
);
/**
 * One version of an artifact (`claude_artifact_version_…`): the unit archived (its text, by the artifacts endpoint).
 */
export const ArtifactVersionIdSchema = taggedId('claude_artifact_version_');
/** A project document (`claude_proj_doc_…`): text whose content comes in a JSON answer, archived as a file. */
export const ProjectDocumentIdSchema = taggedId('claude_proj_doc_');

/**
 * Which upstream API holds a file; selected by the id's prefix. `project_document` is a project's
 * text document, whose content comes in the JSON of the documents endpoint (archived as its UTF-8 bytes);
 * `artifact` one version of a chat's artifact (`claude_artifact_version_…`), its text served as content.
 */
export type FileSource = 'generated' | 'uploaded' | 'files_api' | 'project_document' | 'artifact';

export const FileIdSchema = z.union(
  [GeneratedFileIdSchema, UploadedFileIdSchema, FilesApiFileIdSchema, ProjectDocumentIdSchema, ArtifactVersionIdSchema],
  { error: 'must be a claude_gen_file_…, claude_file_…, file_…, claude_proj_doc_… or claude_artifact_version_… id' },
);

/** Returns the source a valid file id belongs to. The prefixes do not overlap. */
export function sourceOfFileId(fileId: string): FileSource {
  if (fileId.startsWith('claude_gen_file_')) return 'generated';
  if (fileId.startsWith('claude_file_')) return 'uploaded';
  if (fileId.startsWith('file_')) return 'files_api';
  if (fileId.startsWith('claude_proj_doc_')) return 'project_document';
  if (fileId.startsWith('claude_artifact_version_')) return 'artifact';
  throw new Error('unknown file id prefix');
}
