/**
 * eDiscovery exports: what an export request may ask for, the job record the lookup API and the
 * export worker share, the queue message, and where an export's objects go. Layout of the bag:
 * docs/exports.md.
 */
import { randomBytes } from 'node:crypto';
import * as z from './zod.js';
import { ChatIdSchema, FileIdSchema } from './ids.js';
import { KEY_PREFIXES } from './table-keys.js';

/** `exp_` and 32 lowercase hex digits: made by the API, never by the caller. */
export const ExportIdSchema = z
  .string()
  .check(z.regex(/^exp_[0-9a-f]{32}$/, { message: 'must be an export id (exp_…)' }));

export function newExportId(): string {
  return `exp_${randomBytes(16).toString('hex')}`;
}

const MAX_LIST = 1000;
const Timestamp = z.iso.datetime({ offset: true });
const UserRef = z.string().check(z.minLength(1), z.maxLength(320));
const ProjectId = z.string().check(z.regex(/^claude_proj_[A-Za-z0-9_-]{1,200}$/, { message: 'must be a project id' }));

/**
 * Which files an export takes: the shape of a legal hold's scope (`users`, `chats`, `projects`,
 * `fileIds`, `from`, `to`). A file is in scope when it meets every criterion given; a list is met by
 * any of its values. `users` matches the creator's id or email address, `from`/`to` the file's
 * upstream creation time ([from, to)). Only archived files are exported; the others are counted.
 */
export const ExportScopeSchema = z
  .strictObject({
    users: z.optional(z.array(UserRef).check(z.minLength(1), z.maxLength(MAX_LIST))),
    chats: z.optional(z.array(ChatIdSchema).check(z.minLength(1), z.maxLength(MAX_LIST))),
    projects: z.optional(z.array(ProjectId).check(z.minLength(1), z.maxLength(MAX_LIST))),
    fileIds: z.optional(z.array(FileIdSchema).check(z.minLength(1), z.maxLength(MAX_LIST))),
    from: z.optional(Timestamp),
    to: z.optional(Timestamp),
  })
  .check(
    z.refine((s) => Object.values(s).some((v) => v !== undefined), {
      message: 'scope must name at least one of users, chats, projects, fileIds, from, to',
    }),
  )
  .check(
    z.refine((s) => !s.from || !s.to || Date.parse(s.from) < Date.parse(s.to), {
      message: 'scope.from must be before scope.to',
    }),
  );
export type ExportScope = z.infer<typeof ExportScopeSchema>;

/** A matter id as legal holds name them: letters, digits, `._-`, up to 128. */
export const MatterIdSchema = z.string().check(
  z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
    message: 'must be 1-128 letters, digits, dots, hyphens or underscores',
  }),
);

/** The body of `POST /exports`: a scope, or a matter id (whose holds give the scope), or both. */
export const ExportRequestSchema = z
  .strictObject({
    scope: z.optional(ExportScopeSchema),
    matterId: z.optional(MatterIdSchema),
    /** A label for the bag (bag-info.txt `External-Description`). */
    description: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
  })
  .check(
    z.refine((r) => r.scope !== undefined || r.matterId !== undefined, {
      message: 'give a scope, a matterId, or both',
    }),
  );
export type ExportRequest = z.infer<typeof ExportRequestSchema>;

export type ExportStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface ExportCounts {
  /** Files the scope matched. */
  matched: number;
  /** Files in the bag so far. */
  exported: number;
  /** Matched files with no archived copy (pending, unavailable, failed): listed in the report, not in the bag. */
  notArchived: number;
  /** Payload bytes in the bag so far. */
  payloadBytes: number;
}

/** The export job as stored (`EXPORT#<id>`) and as `GET /exports/{id}` shows it. */
export interface ExportJob {
  exportId: string;
  status: ExportStatus;
  scope: ExportScope | null;
  matterId: string | null;
  description: string | null;
  requestedBy: string;
  requestedAt: string;
  updatedAt: string;
  counts: ExportCounts;
  /** Runs of the worker on this job (a resumed export has more than one). */
  runs: number;
  /** The bag, once complete. */
  bag: { bucket: string; key: string; bytes: number; sha256: string; completedAt: string } | null;
  /** Why the export failed, in words safe to show; null otherwise. */
  error: string | null;
}

/** A job as requested, before any run: queued, nothing counted, no bag. `at` is the request time. */
export function queuedExportJob(
  request: Pick<ExportJob, 'exportId' | 'scope' | 'matterId' | 'description' | 'requestedBy'>,
  at: string,
): ExportJob {
  return {
    ...request,
    status: 'queued',
    requestedAt: at,
    updatedAt: at,
    counts: { matched: 0, exported: 0, notArchived: 0, payloadBytes: 0 },
    runs: 0,
    bag: null,
    error: null,
  };
}

/** The export queue's message: which job to run (the job record holds the rest). */
export const ExportMessageSchema = z.strictObject({ exportId: ExportIdSchema });
export type ExportMessage = z.infer<typeof ExportMessageSchema>;

export const EXPORT_KEYS = {
  job: (exportId: string) => ({ pk: `${KEY_PREFIXES.export}${exportId}`, sk: 'JOB' }),
} as const;

/** Every export object lives under this prefix of the exports bucket. */
export const EXPORT_KEY_PREFIX = 'exports/';

/** Where an export's bag and its work files go. */
export function exportObjectKeys(exportId: string): {
  bag: string;
  files: string;
  checkpointPrefix: string;
  checkpoint: (seq: number) => string;
} {
  const base = `${EXPORT_KEY_PREFIX}${exportId}/`;
  return {
    bag: `${base}${exportId}.zip`,
    files: `${base}work/files.json`,
    checkpointPrefix: `${base}work/checkpoint/`,
    checkpoint: (seq) => `${base}work/checkpoint/${String(seq).padStart(8, '0')}.json`,
  };
}
