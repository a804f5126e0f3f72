import * as z from './zod.js';
import type { FileRecord } from './file-records.js';

/**
 * The file record as the lookup API sends it (`GET /files/{id}`, each item of
 * `GET /chats/{id}/files`): the contract of file-records.ts as a zod schema, for the API's clients
 * (the `archiver` CLI). Objects are loose: a field a newer stack adds passes through untouched, so a
 * client prints what the API sent. The compile-time checks at the end keep this schema and the
 * record types in step: a status, field or field type the contract gains or changes and this schema
 * does not is a type error, not a client that exits "unexpected shape" on the new records.
 */

const UpstreamUserSchema = z.object({ id: z.string(), emailAddress: z.nullable(z.string()) });

/** Who and where (RecordProvenance): optional, as records written before it was kept lack it. */
const provenanceShape = {
  creator: z.optional(z.nullable(UpstreamUserSchema)),
  organizationId: z.optional(z.nullable(z.string())),
  projectId: z.optional(z.nullable(z.string())),
  messageIds: z.optional(z.array(z.string())),
};

const baseShape = {
  ...provenanceShape,
  fileId: z.string(),
  source: z.enum(['generated', 'uploaded', 'files_api', 'project_document', 'artifact']),
  chatIds: z.array(z.string()),
  filename: z.nullable(z.string()),
  mimeType: z.nullable(z.string()),
  sizeBytes: z.nullable(z.number()),
  createdAt: z.nullable(z.string()),
  upstreamRequestId: z.nullable(z.string()),
};

const archivedShape = {
  ...baseShape,
  status: z.literal('archived'),
  filename: z.string(),
  sizeBytes: z.number(),
  md5: z.string(),
  sha256: z.string(),
  crc32: z.optional(z.string()),
  bucket: z.string(),
  key: z.string(),
  versionId: z.nullable(z.string()),
  contentType: z.string(),
  contentDisposition: z.string(),
  archivedAt: z.string(),
  publishedMd5Mismatch: z.optional(z.object({ metadataMd5: z.string(), contentMd5: z.string() })),
  legalHolds: z.optional(
    z.record(
      z.string(),
      z.object({
        matterId: z.string(),
        placedBy: z.string(),
        placedAt: z.string(),
        reason: z.string(),
        via: z.enum(['matter', 'ingest']),
      }),
    ),
  ),
  fixity: z.optional(
    z.object({
      status: z.enum(['passed', 'failed']),
      lastCheckedAt: z.string(),
      lastTier: z.enum(['cheap', 'deep']),
      checks: z.number(),
    }),
  ),
  fixityEvents: z.optional(
    z.array(
      z.object({
        eventType: z.literal('fixity check'),
        at: z.string(),
        tier: z.enum(['cheap', 'deep']),
        tool: z.string(),
        toolVersion: z.string(),
        outcome: z.enum(['passed', 'failed']),
        detail: z.string(),
        versionId: z.nullable(z.string()),
      }),
    ),
  ),
  upstreamHash: z.optional(z.literal('none')),
};

const unavailableShape = {
  ...baseShape,
  status: z.literal('unavailable'),
  reason: z.enum(['not_found', 'expired', 'not_downloadable']),
  detail: z.string(),
  recordedAt: z.string(),
};

const failedShape = {
  ...baseShape,
  status: z.literal('failed'),
  reason: z.enum(['not_retryable', 'too_large', 'dead_lettered']),
  detail: z.string(),
  upstreamErrorType: z.nullable(z.string()),
  upstreamStatus: z.nullable(z.number()),
  failedAt: z.string(),
};

const pendingShape = {
  ...baseShape,
  status: z.literal('pending'),
  attempts: z.number(),
  lastError: z.nullable(z.string()),
  lastUpstreamRequestId: z.nullable(z.string()),
  firstSeenAt: z.string(),
};

/** A deletion upstream of the file, a chat it belongs to or its project; the archived copy stays. */
export const UpstreamDeletionJsonSchema = z.looseObject({
  kind: z.enum(['file', 'chat', 'project', 'document']),
  deletedAt: z.nullable(z.string()),
  via: z.string(),
});
export type UpstreamDeletionJson = z.infer<typeof UpstreamDeletionJsonSchema>;

/** What the lookup API adds to a record: the upstream deletions that concern it. */
const lookupShape = { upstreamDeletions: z.optional(z.array(UpstreamDeletionJsonSchema)) };

export const FileRecordJsonSchema = z.discriminatedUnion('status', [
  z.looseObject({ ...archivedShape, ...lookupShape }),
  z.looseObject({ ...unavailableShape, ...lookupShape }),
  z.looseObject({ ...failedShape, ...lookupShape }),
  z.looseObject({ ...pendingShape, ...lookupShape }),
]);
export type FileRecordJson = z.infer<typeof FileRecordJsonSchema>;

// Drift checks (compile time only). The same shapes as closed objects must accept every record of
// the contract (a new status or a changed field type fails here), and name every field the
// contract has (a new field fails here until it is described above).
const closedSchema = z.discriminatedUnion('status', [
  z.object(archivedShape),
  z.object(unavailableShape),
  z.object(failedShape),
  z.object(pendingShape),
]);
type Closed = z.infer<typeof closedSchema>;
type KeysOf<T> = T extends unknown ? keyof T : never;
type Check<T extends true> = T;
export type FileRecordSchemaAcceptsContract = Check<FileRecord extends Closed ? true : false>;
export type FileRecordSchemaNamesEveryField = Check<
  Exclude<KeysOf<FileRecord>, KeysOf<Closed>> extends never ? true : false
>;
