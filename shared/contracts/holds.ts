import * as z from './zod.js';
import { ChatIdSchema, FileIdSchema } from './ids.js';
import { ReasonSchema } from './job.js';
import { canonicalTimestamp } from './timestamps.js';

/**
 * Legal holds: what a matter is, which archived files its scope selects, what each held record
 * carries, and the hold-work message that walks the index a page at a time. No SDK: the lookup API,
 * the ingest path and the export builder read the same scope.
 */

/** A matter id names a legal matter (a case number, a docket): letters, digits, `.`, `_`, `-`. */
export const MatterIdSchema = z.string().check(
  z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
    message: 'must be 1 to 128 letters, digits, dots, underscores or hyphens, starting with a letter or digit',
  }),
);

/** The most entries one list of a scope may hold: the scope is stored on the matter item (400 KB limit). */
export const MAX_SCOPE_ENTRIES = 500;

const UserRefSchema = z
  .string()
  .check(z.minLength(1), z.maxLength(320))
  .check(z.regex(/^[A-Za-z0-9._%+@-]+$/, { message: 'must be an upstream user id or an email address' }));
const ProjectIdSchema = z
  .string()
  .check(z.regex(/^claude_proj_[A-Za-z0-9_-]{1,200}$/, { message: 'must be a claude_proj_… id' }));
const InstantSchema = z.pipe(
  z.iso.datetime({ offset: true }),
  z.transform((t) => canonicalTimestamp(t) ?? t),
);

const list = <T extends z.ZodMiniType>(item: T) =>
  z.optional(
    z.array(item).check(z.maxLength(MAX_SCOPE_ENTRIES, { message: `must hold at most ${MAX_SCOPE_ENTRIES} entries` })),
  );

/**
 * Which archived files a matter (or an export) covers. The lists select: a file is in scope when it
 * matches ANY of them (created by one of `users`, id or email; listed under one of `chats`; in one of
 * `projects`; one of `fileIds`). `from` (inclusive) and `to` (exclusive) narrow by the file's
 * upstream creation time, or its archive time when upstream gave none; with no list at all they select
 * every file in the window. An empty scope is refused: a hold on everything must be said explicitly,
 * with a window.
 */
export const HoldScopeSchema = z
  .strictObject({
    users: list(UserRefSchema),
    chats: list(ChatIdSchema),
    projects: list(ProjectIdSchema),
    fileIds: list(FileIdSchema),
    from: z.optional(InstantSchema),
    to: z.optional(InstantSchema),
  })
  .check(
    z.refine((s) => hasSelector(s) || s.from !== undefined || s.to !== undefined, {
      message: 'must name users, chats, projects, fileIds, or a from/to window',
    }),
  )
  .check(
    z.refine((s) => s.from === undefined || s.to === undefined || s.from < s.to, { message: 'from must be before to' }),
  );
export type HoldScope = z.infer<typeof HoldScopeSchema>;

function hasSelector(s: {
  users?: unknown[] | undefined;
  chats?: unknown[] | undefined;
  projects?: unknown[] | undefined;
  fileIds?: unknown[] | undefined;
}): boolean {
  return [s.users, s.chats, s.projects, s.fileIds].some((l) => (l?.length ?? 0) > 0);
}

/** `POST /holds`: the matter, why, and what it covers. */
export const PlaceHoldRequestSchema = z.strictObject({
  matterId: MatterIdSchema,
  reason: ReasonSchema,
  scope: HoldScopeSchema,
});
export type PlaceHoldRequest = z.infer<typeof PlaceHoldRequestSchema>;

/** What a held record says about one matter holding it: who placed the matter, when this copy was held, why. */
export interface LegalHoldEntry {
  matterId: string;
  /** The IAM identity that placed the matter (the caller of `POST /holds`). */
  placedBy: string;
  /** When this archived version was put on hold for the matter. */
  placedAt: string;
  reason: string;
  /** `matter`: the matter's sweep over the archive; `ingest`: the file fell in scope as it was archived. */
  via: 'matter' | 'ingest';
}

/** The fields of a record that scope matching reads. */
export interface ScopedFile {
  fileId: string;
  chatIds: readonly string[];
  createdAt: string | null;
  archivedAt?: string;
  creator?: { id: string; emailAddress: string | null } | null;
  projectId?: string | null;
}

/** Whether `scope` selects `file` (the rules of HoldScopeSchema). Pure, so the sweep, ingest and exports agree. */
export function inScope(file: ScopedFile, scope: HoldScope): boolean {
  const at = canonicalTimestamp(file.createdAt) ?? canonicalTimestamp(file.archivedAt ?? null);
  if (scope.from !== undefined && (at === null || at < scope.from)) return false;
  if (scope.to !== undefined && (at === null || at >= scope.to)) return false;
  if (!hasSelector(scope)) return true;
  if (scope.fileIds?.includes(file.fileId)) return true;
  if (scope.chats?.some((c) => file.chatIds.includes(c))) return true;
  if (file.projectId && scope.projects?.includes(file.projectId)) return true;
  const creator = file.creator;
  if (creator && scope.users) {
    const email = creator.emailAddress?.toLowerCase();
    return scope.users.some((u) => u === creator.id || (email !== undefined && u.toLowerCase() === email));
  }
  return false;
}

/** The two sweeps a matter goes through: placing its holds, then (after `DELETE`) releasing them. */
export type HoldAction = 'place' | 'release';

/** Progress of a matter's current sweep, checkpointed after every page. */
export interface HoldProgress {
  action: HoldAction;
  /** The next page to process (0 before the first). */
  page: number;
  /** Where the next page starts (opaque), absent before the first page and after the last. */
  cursor?: string;
  /** Whether the message for `page` was sent (a redelivered page re-sends it when not). */
  sent: boolean;
  /** Index items read, archived files in scope (or holding the matter) reached, records changed. */
  scanned: number;
  matched: number;
  changed: number;
  done: boolean;
  startedAt: string;
  finishedAt?: string;
}

export interface Matter {
  matterId: string;
  reason: string;
  scope: HoldScope;
  status: 'active' | 'released';
  placedBy: string;
  placedAt: string;
  releasedBy?: string;
  releasedAt?: string;
  progress: HoldProgress;
}

/**
 * The hold-work message, on the ingest queue beside ingest jobs: one page of one matter's sweep. A
 * page is checkpointed on the matter item before the next page's message is sent, so a sweep over
 * any number of versions is a chain of short deliveries that resumes where it stopped.
 */
export const HoldWorkSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('hold-work'),
  matterId: MatterIdSchema,
  action: z.enum(['place', 'release']),
  page: z.int().check(z.nonnegative()),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});
export type HoldWork = z.infer<typeof HoldWorkSchema>;

/** Whether a queue body is meant as hold work (so that a malformed one is dead-lettered with the right reason). */
export function looksLikeHoldWork(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { kind?: unknown }).kind === 'hold-work';
}

export function serializeHoldWork(work: Omit<HoldWork, 'v' | 'kind'>): string {
  return JSON.stringify({ v: 1, kind: 'hold-work', ...work });
}
