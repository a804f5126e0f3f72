import * as z from '../contracts/zod.js';
import { toWellFormed } from '../archive/content-disposition.js';
import { ChatIdSchema } from '../contracts/ids.js';
import type { FileSource } from '../contracts/ids.js';
import { canonicalTimestamp } from '../contracts/timestamps.js';
import { WireUserSchema } from './upstream-user.js';

/**
 * Upstream metadata, validated before use and normalised to one shape for every source. Upstream
 * objects may gain fields, so unknown fields are ignored; the documented ones are checked.
 */
export interface FileMetadata {
  fileId: string;
  source: FileSource;
  chatIds: string[];
  filename: string;
  /** Lowercase hex MD5 as published, or null when upstream has no stored hash (Files API never has one). */
  md5Hex: string | null;
  mimeType: string | null;
  /** Null when upstream does not know it, e.g. an expired generated file. */
  sizeBytes: number | null;
  createdAt: string | null;
  downloadable: boolean;
}

/** A project document as the documents endpoint answers: its text and who created it. */
export interface ProjectDocument {
  id: string;
  /** The document's text; archived as its UTF-8 bytes. */
  content: string;
  filename: string;
  /** RFC 3339 UTC with milliseconds when upstream's value parses, else upstream's string. */
  createdAt: string | null;
  /** The creator (`user`); null when upstream says null, undefined when it did not say. */
  creator: { id: string; emailAddress: string | null } | null | undefined;
}

const Md5 = z.pipe(
  z.string().check(z.regex(/^[0-9a-fA-F]{32}$/)),
  z.transform((s) => s.toLowerCase()),
);
// Untrusted and only ever displayed after sanitising (an empty name becomes "file"), so any string up
// to a sane bound is accepted rather than losing the file over its name.
const Filename = z.pipe(z.string().check(z.maxLength(4096)), z.transform(toWellFormed));
// Upstream's creation time, in canonical form (RFC 3339 UTC, milliseconds) when it is an RFC 3339
// timestamp; any other string is kept verbatim as evidence of what upstream said, and the file then
// sorts in its chats by the time the archive recorded it (listingSortTime). Only the key is derived,
// never the evidence. A non-string or a value over 256 characters is dropped (the file is still archived).
const Timestamp = z.catch(z.nullish(z.pipe(z.string().check(z.maxLength(256)), z.transform(recordedCreatedAt))), null);
const Size = z.int().check(z.nonnegative());

const GeneratedFileSchema = z.looseObject({
  id: z.string(),
  claude_chat_id: ChatIdSchema,
  created_at: z.nullish(Timestamp),
  filename: Filename,
  md5: z.nullish(Md5),
  mime_type: z.nullish(z.string().check(z.maxLength(255))),
  size_bytes: z.nullish(Size),
});

const UploadedFileSchema = z.looseObject({
  id: z.string(),
  claude_chat_ids: z.nullish(z.array(ChatIdSchema).check(z.maxLength(10_000))),
  created_at: z.nullish(Timestamp),
  filename: Filename,
  md5: z.nullish(Md5),
  mime_type: z.nullish(z.string().check(z.maxLength(255))),
  size_bytes: z.nullish(Size),
});

const FilesApiFileSchema = z.looseObject({
  id: z.string(),
  type: z.literal('file'),
  created_at: z.nullish(Timestamp),
  filename: Filename,
  mime_type: z.nullish(z.string().check(z.maxLength(255))),
  size_bytes: z.nullish(Size),
  downloadable: z.optional(z.boolean()),
});

/**
 * An artifact version's metadata (`GET /v1/compliance/apps/artifacts/{version_id}`): `id` is the
 * artifact's, `version_id` the version's (the file archived); `md5` and `size_bytes` are over the
 * UTF-8 encoding of its text.
 */
const ArtifactSchema = z.looseObject({
  id: z.string(),
  version_id: z.string(),
  claude_chat_id: z.nullish(ChatIdSchema),
  created_at: z.nullish(Timestamp),
  title: z.nullish(Filename),
  artifact_type: z.nullish(z.string().check(z.maxLength(255))),
  md5: z.nullish(Md5),
  size_bytes: z.nullish(Size),
});

/** Validates a metadata response for `fileId` and normalises it. Throws a ZodError or an Error. */
export function normaliseMetadata(fileId: string, source: FileSource, json: unknown): FileMetadata {
  if (source === 'files_api') {
    const m = FilesApiFileSchema.parse(json);
    assertSameId(fileId, m.id);
    // Absent `downloadable` means the API did not say so; only skill/code-execution files are.
    return { ...commonFields(fileId, source, m), chatIds: [], md5Hex: null, downloadable: m.downloadable === true };
  }
  if (source === 'artifact') {
    const m = ArtifactSchema.parse(json);
    assertSameId(fileId, m.version_id);
    return {
      fileId,
      source,
      chatIds: m.claude_chat_id ? [m.claude_chat_id] : [],
      // An artifact has a title (may be null), not a filename: the title names the archived copy.
      filename: m.title || fileId,
      md5Hex: m.md5 ?? null,
      // `artifact_type` is MIME-like (`application/vnd.ant.code`): kept as upstream said it.
      mimeType: m.artifact_type ?? null,
      sizeBytes: m.size_bytes ?? null,
      createdAt: m.created_at ?? null,
      downloadable: true,
    };
  }
  if (source === 'generated') {
    const m = GeneratedFileSchema.parse(json);
    assertSameId(fileId, m.id);
    return {
      ...commonFields(fileId, source, m),
      chatIds: [m.claude_chat_id],
      md5Hex: m.md5 ?? null,
      downloadable: true,
    };
  }
  const m = UploadedFileSchema.parse(json);
  assertSameId(fileId, m.id);
  const chatIds = [...new Set(m.claude_chat_ids ?? [])];
  return { ...commonFields(fileId, source, m), chatIds, md5Hex: m.md5 ?? null, downloadable: true };
}

function commonFields(
  fileId: string,
  source: FileSource,
  m: {
    filename: string;
    mime_type?: string | null | undefined;
    size_bytes?: number | null | undefined;
    created_at?: string | null | undefined;
  },
) {
  return {
    fileId,
    source,
    filename: m.filename,
    mimeType: m.mime_type ?? null,
    sizeBytes: m.size_bytes ?? null,
    createdAt: m.created_at ?? null,
  };
}

const ProjectDocumentSchema = z.looseObject({
  id: z.string(),
  content: z.string(),
  created_at: z.nullish(Timestamp),
  filename: Filename,
  user: WireUserSchema,
});

/**
 * Validates a project document's JSON for `documentId`. The content must be a string: it is the
 * document (a missing or non-string content is a contract error, never an empty archive).
 */
export function normaliseDocument(documentId: string, json: unknown): ProjectDocument {
  const d = ProjectDocumentSchema.parse(json);
  assertSameId(documentId, d.id);
  return { id: d.id, content: d.content, filename: d.filename, createdAt: d.created_at ?? null, creator: d.user };
}

/** `created_at` as a record keeps it: canonical when it parses, else upstream's string (well-formed). */
export function recordedCreatedAt(value: string): string {
  return canonicalTimestamp(value) ?? toWellFormed(value);
}

function assertSameId(requested: string, returned: string): void {
  if (requested !== returned) throw new Error(`metadata is for another file (${returned.slice(0, 80)})`);
}
