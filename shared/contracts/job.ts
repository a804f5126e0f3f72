import * as z from './zod.js';
import {
  ChatIdSchema,
  FileIdSchema,
  MessageIdSchema,
  ProjectIdSchema,
  sourceOfFileId,
  type FileSource,
} from './ids.js';

/**
 * The ingest job: the body of one queue message, naming one file. Version 1.
 *
 *   { "v": 1, "fileId": "claude_gen_file_…", "chatId": "claude_chat_…",
 *     "file": { "filename": "…", "md5": "…" | null, "mime_type": "…" | null,
 *               "size_bytes": 123 | null, "created_at": "…" | null },
 *     "reason": "legal hold 2026-114", "appearedAt": "2026-12-06T10:15:00.000Z" }
 *
 * Only `fileId` is required; `v` defaults to 1 and any other version is rejected, as is any unknown
 * field. `chatId` and `file` let discovery pass what it already read from
 * `chat_messages[].generated_files[]` / `files[]`: a job that carries the chat id and complete metadata
 * costs one upstream request instead of two. `reason` is why someone asked for the file (the webhook's
 * caller says it); optional, so every job written before it existed still parses. `provenance` is who
 * and where upstream said the file came from (the creator of its chat, project or document, the
 * organization, the project, the messages it appeared in), with the record's own field names
 * (shared/contracts/file-records.ts RecordProvenance); optional for the same reason. `appearedAt` is
 * when the file appeared upstream as discovery saw it (the time of its message, activity or listing
 * entry); ingest reports the time from it to the archived copy (CaptureLatency). Optional for the same reason;
 * a job without it is archived the same way and reports no latency.
 */
export const JOB_SCHEMA_VERSION = 1;

const Md5HexSchema = z.string().check(z.regex(/^[0-9a-f]{32}$/, { message: 'must be 32 lowercase hex digits' }));
const TimestampSchema = z.iso.datetime({ offset: true });

export const MAX_REASON_LENGTH = 500;

/**
 * A human note on why files were requested. Letters, marks, digits, punctuation, symbols, spaces and
 * the zero-width joiners of emoji sequences only: no control characters, lone surrogates,
 * noncharacters (SQS refuses U+FFFE/U+FFFF in a message body, so one would turn a caller's typo into
 * an enqueue failure) or private-use code points.
 */
export const ReasonSchema = z.string().check(
  z.minLength(1, { message: 'must not be empty' }),
  z.maxLength(MAX_REASON_LENGTH, { message: `must be at most ${MAX_REASON_LENGTH} characters` }),
  z.regex(/^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}\u200C\u200D]+$/u, {
    message: 'may hold letters, digits, punctuation, symbols and spaces only',
  }),
  z.refine((r) => r.trim().length > 0, { message: 'must not be blank' }),
);

export const CarriedMetadataSchema = z.strictObject({
  filename: z.string().check(z.minLength(1), z.maxLength(1024)),
  md5: z.optional(z.nullable(Md5HexSchema)),
  mime_type: z.optional(z.nullable(z.string().check(z.minLength(1), z.maxLength(255)))),
  size_bytes: z.optional(z.nullable(z.int().check(z.nonnegative()))),
  created_at: z.optional(z.nullable(TimestampSchema)),
});
export type CarriedMetadata = z.infer<typeof CarriedMetadataSchema>;

/** Upstream's user ids are `user_…` tagged ids; bounded like every id. */
const UserIdSchema = z.string().check(z.regex(/^user_[A-Za-z0-9_-]{1,200}$/, { message: 'must be a user_… id' }));
/**
 * An address as upstream publishes it: displayed and indexed, never sent anywhere, so only bounded
 * and kept free of control characters (no syntax check: upstream's word is the evidence).
 */
const EmailAddressSchema = z.string().check(
  z.minLength(1),
  z.maxLength(320),
  z.regex(/^[^\p{Cc}\p{Cs}\p{Co}\s\uFFFE\uFFFF]+$/u, {
    message: 'must be an address without spaces or control characters',
  }),
);
/** `org_…` tagged ids and organization UUIDs (upstream names an organization both ways). */
const OrganizationIdSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,200}$/, { message: 'must be an organization id' }));

export const UpstreamUserSchema = z.strictObject({ id: UserIdSchema, emailAddress: z.nullable(EmailAddressSchema) });

/** Who and where, as the record keeps it (RecordProvenance). Every field optional; null = upstream said null. */
export const JobProvenanceSchema = z.strictObject({
  creator: z.optional(z.nullable(UpstreamUserSchema)),
  organizationId: z.optional(z.nullable(OrganizationIdSchema)),
  projectId: z.optional(z.nullable(ProjectIdSchema)),
  messageIds: z.optional(z.array(MessageIdSchema).check(z.maxLength(1000))),
});
export type JobProvenance = z.infer<typeof JobProvenanceSchema>;

export const IngestJobSchema = z.strictObject({
  v: z._default(z.literal(JOB_SCHEMA_VERSION), JOB_SCHEMA_VERSION),
  fileId: FileIdSchema,
  chatId: z.optional(ChatIdSchema),
  file: z.optional(CarriedMetadataSchema),
  reason: z.optional(ReasonSchema),
  provenance: z.optional(JobProvenanceSchema),
  appearedAt: z.optional(TimestampSchema),
});
export type IngestJob = z.infer<typeof IngestJobSchema>;

export type ParsedJob = { ok: true; job: IngestJob; source: FileSource } | { ok: false; reason: string };

/** Parses a queue message body; never throws. The reason names the offending field, not the payload. */
export function parseJob(body: string): ParsedJob {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
  const parsed = IngestJobSchema.safeParse(json);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((i) => `${i.path.join('.') || 'job'}: ${i.message}`).join('; ');
    return { ok: false, reason: `not a valid job: ${reason}` };
  }
  return { ok: true, job: parsed.data, source: sourceOfFileId(parsed.data.fileId) };
}

/** Serialises a job for the queue (discovery, enqueue CLI, sample stack). */
export function serializeJob(job: Omit<IngestJob, 'v'> & { v?: 1 }): string {
  // SQS accepts only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF in a message
  // body and refuses the whole message otherwise (SendMessage, MessageBody:
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
  // JSON.stringify already escapes #x0-#x1F; the noncharacters U+FFFE and U+FFFF (which upstream may
  // put in a filename) and everything beyond the Basic Multilingual Plane (emoji in a filename, CJK
  // extension letters in a reason, as the surrogates of its pair; the local fauxqs refuses
  // #x10000-#x10FFFF, which AWS allows) go as JSON \u escapes: the same job once parsed, and a body
  // every SQS accepts, so the file is archived rather than refused.
  return JSON.stringify({ v: JOB_SCHEMA_VERSION, ...job }).replace(
    /[\ud800-\udfff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16)}`,
  );
}
