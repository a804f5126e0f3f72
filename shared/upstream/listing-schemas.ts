import * as z from '../contracts/zod.js';
import {
  ArtifactIdSchema,
  ArtifactVersionIdSchema,
  ChatIdSchema,
  ProjectDocumentIdSchema,
  ProjectIdSchema,
} from '../contracts/ids.js';
import { JobProvenanceSchema } from '../contracts/job.js';
import { WireUserSchema } from './upstream-user.js';
import type { JobProvenance } from '../contracts/job.js';

/**
 * The listing endpoints discovery reads, validated at the boundary: upstream JSON is untrusted.
 * A page's envelope (`has_more`, `last_id`, the array itself) must match or the page is refused as a
 * whole (a cursor is never moved past a page that was not understood). Items are checked one by one:
 * an item that does not match is counted and reported in the run's ledger instead of being dropped
 * silently, and the cursor still moves past it (the next run would read the same broken item again).
 * Unknown fields are ignored: upstream objects may gain fields.
 */
const ID_BODY = '[A-Za-z0-9_-]{1,200}';
const tagged = (prefix: string) => z.string().check(z.regex(new RegExp(`^${prefix}${ID_BODY}$`)));

export const MessageIdSchema = tagged('claude_chat_msg_');
export const ActivityIdSchema = tagged('activity_');
const GeneratedFileIdSchema = tagged('claude_gen_file_');
const UploadedFileIdSchema = tagged('claude_file_');
const FilesApiFileIdSchema = tagged('file_');

/** A cursor as returned in `first_id` / `last_id`: opaque, but bounded and URL-safe once encoded. */
const CursorSchema = z.string().check(z.minLength(1), z.maxLength(512));
/** RFC 3339-like; anything else is dropped (the field is informative, never a key). */
const Timestamp = z.string().check(z.regex(/^[0-9A-Za-z:.+-]{1,64}$/));
const Md5 = z.pipe(
  z.string().check(z.regex(/^[0-9a-fA-F]{32}$/)),
  z.transform((s) => s.toLowerCase()),
);
const Filename = z.string().check(z.maxLength(4096));
// An empty MIME type is sent as null in jobs rather than losing the file over it.
const MimeType = z.string().check(z.maxLength(255));
const Size = z.int().check(z.nonnegative());

/** Bounded like every id; a value that does not match is read as "not said". */
const OrgIdWire = z.catch(JobProvenanceSchema.shape.organizationId, undefined);
const ProjectIdWire = z.catch(JobProvenanceSchema.shape.projectId, undefined);

/** The who-and-where fields upstream puts on a chat and a project (and the messages page's chat). */
const OwnerFields = {
  user: WireUserSchema,
  organization_id: OrgIdWire,
  organization_uuid: OrgIdWire,
};

export const ChatSummarySchema = z.looseObject({
  id: ChatIdSchema,
  created_at: z.nullish(Timestamp),
  updated_at: z.nullish(Timestamp),
  deleted_at: z.nullish(Timestamp),
  project_id: ProjectIdWire,
  ...OwnerFields,
});

/**
 * The provenance of what a chat or project holds: its creator, its organization (the `org_…` id when
 * upstream sends one, else the organization UUID: chats list `organization_id` as deprecated beside
 * `organization_uuid`), and for a chat its project. Only what upstream said is set.
 */
export function ownerProvenance(o: {
  user?: { id: string; emailAddress: string | null } | null | undefined;
  organization_id?: string | null | undefined;
  organization_uuid?: string | null | undefined;
  project_id?: string | null | undefined;
}): JobProvenance {
  const p: JobProvenance = {};
  if (o.user !== undefined) p.creator = o.user;
  const org = o.organization_id ?? o.organization_uuid;
  if (org !== undefined) p.organizationId = org;
  if (o.project_id !== undefined) p.projectId = o.project_id;
  return p;
}
export type ChatSummary = z.infer<typeof ChatSummarySchema>;

/** `files[]` of a message: an uploaded file. */
export const MessageUploadedFileSchema = z.looseObject({
  id: UploadedFileIdSchema,
  created_at: z.nullish(Timestamp),
  filename: Filename,
  md5: z.nullish(Md5),
  mime_type: z.nullish(MimeType),
  size_bytes: z.nullish(Size),
});
/** `generated_files[]` of a message (documented without `created_at`). */
export const MessageGeneratedFileSchema = z.looseObject({
  id: GeneratedFileIdSchema,
  filename: Filename,
  md5: z.nullish(Md5),
  mime_type: z.nullish(MimeType),
  size_bytes: z.nullish(Size),
});
/** `artifacts[]` of a message: a version of an artifact Claude wrote or updated in it. */
export const MessageArtifactSchema = z.looseObject({
  id: ArtifactIdSchema,
  version_id: ArtifactVersionIdSchema,
  title: z.nullish(Filename),
  artifact_type: z.nullish(MimeType),
});
export type MessageArtifact = z.infer<typeof MessageArtifactSchema>;
export type MessageUploadedFile = z.infer<typeof MessageUploadedFileSchema>;
export type MessageGeneratedFile = z.infer<typeof MessageGeneratedFileSchema>;

export const ChatMessageSchema = z.looseObject({
  id: MessageIdSchema,
  created_at: z.nullish(Timestamp),
  // Each of the three arrays may be null (documented); the items are checked one by one later.
  files: z.nullish(z.array(z.unknown()).check(z.maxLength(10_000))),
  generated_files: z.nullish(z.array(z.unknown()).check(z.maxLength(10_000))),
  artifacts: z.nullish(z.array(z.unknown()).check(z.maxLength(10_000))),
});

const ListEnvelope = {
  has_more: z.boolean(),
  first_id: z.nullish(CursorSchema),
  last_id: z.nullish(CursorSchema),
};

export const ChatListPageSchema = z.looseObject({
  data: z.array(z.unknown()).check(z.maxLength(10_000)),
  ...ListEnvelope,
});

export const ChatMessagesPageSchema = z.looseObject({
  id: ChatIdSchema,
  deleted_at: z.nullish(Timestamp),
  project_id: ProjectIdWire,
  ...OwnerFields,
  chat_messages: z.array(z.unknown()).check(z.maxLength(10_000)),
  ...ListEnvelope,
});

export const ActivitySchema = z.looseObject({
  id: ActivityIdSchema,
  type: z.string().check(z.minLength(1), z.maxLength(200)),
  created_at: z.nullish(Timestamp),
  actor: z.nullish(z.looseObject({ type: z.string().check(z.maxLength(200)) })),
  claude_file_id: z.nullish(UploadedFileIdSchema),
  claude_chat_id: z.nullish(ChatIdSchema),
  claude_project_id: ProjectIdWire,
  claude_project_document_id: z.catch(z.nullish(ProjectDocumentIdSchema), undefined),
  organization_id: OrgIdWire,
  organization_uuid: OrgIdWire,
  filename: z.nullish(Filename),
});
export type Activity = z.infer<typeof ActivitySchema>;

export const ActivityPageSchema = z.looseObject({
  data: z.array(z.unknown()).check(z.maxLength(10_000)),
  ...ListEnvelope,
});

export const FilesApiListItemSchema = z.looseObject({
  id: FilesApiFileIdSchema,
  type: z.literal('file'),
  created_at: z.nullish(Timestamp),
  filename: z.nullish(Filename),
});
export type FilesApiListItem = z.infer<typeof FilesApiListItemSchema>;

export const FilesApiListPageSchema = z.looseObject({
  data: z.array(z.unknown()).check(z.maxLength(10_000)),
  ...ListEnvelope,
});

/**
 * A project (`GET /v1/compliance/apps/projects`): its id, creation and deletion times, its creator
 * and organization. Deleted in the app: `deleted_at` is set (the project is still listed).
 */
export const ProjectSchema = z.looseObject({
  id: ProjectIdSchema,
  created_at: z.nullish(Timestamp),
  updated_at: z.nullish(Timestamp),
  deleted_at: z.nullish(Timestamp),
  ...OwnerFields,
});
export type Project = z.infer<typeof ProjectSchema>;

/** The page-token listings (projects, attachments): `has_more` and an opaque `next_page`. */
const PageTokenEnvelope = {
  has_more: z.boolean(),
  next_page: z.nullish(CursorSchema),
};
export const ProjectListPageSchema = z.looseObject({
  data: z.array(z.unknown()).check(z.maxLength(10_000)),
  ...PageTokenEnvelope,
});

/**
 * An attachment of a project, discriminated by `type`: an attached file (`project_file`, a
 * `claude_file_…` whose bytes come from the uploaded-files content endpoint) or a project document
 * (`project_doc`, a `claude_proj_doc_…` whose text comes from the documents endpoint). Any other
 * type does not match and is counted, never guessed at.
 */
export const ProjectAttachmentSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('project_file'),
    id: UploadedFileIdSchema,
    created_at: z.nullish(Timestamp),
    filename: z.nullish(Filename),
    md5: z.nullish(Md5),
    mime_type: z.nullish(MimeType),
    size_bytes: z.nullish(Size),
  }),
  z.looseObject({
    type: z.literal('project_doc'),
    id: ProjectDocumentIdSchema,
    created_at: z.nullish(Timestamp),
    filename: z.nullish(Filename),
  }),
]);
export type ProjectAttachment = z.infer<typeof ProjectAttachmentSchema>;

export const ProjectAttachmentPageSchema = z.looseObject({
  data: z.array(z.unknown()).check(z.maxLength(10_000)),
  ...PageTokenEnvelope,
});

/** Items of a page that matched their schema, and how many did not. */
export interface CheckedItems<T> {
  items: T[];
  invalid: number;
}

/** Checks each item of an array on its own. */
export function checkItems<T>(schema: z.core.$ZodType<T>, raw: readonly unknown[] | null | undefined): CheckedItems<T> {
  const items: T[] = [];
  let invalid = 0;
  for (const value of raw ?? []) {
    const parsed = z.safeParse(schema, value);
    if (parsed.success) items.push(parsed.data);
    else invalid += 1;
  }
  return { items, invalid };
}
