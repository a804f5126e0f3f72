/**
 * The lookup API as the CLI calls it: the same routes an auditor calls with curl, SigV4-signed for
 * `execute-api` against a deployed stack (credentials from the standard AWS provider chain: env,
 * profile, SSO, instance role), plain HTTP against the local stack.
 */
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { CliError, EXIT } from './exit-codes.js';
import { createSignedLookupApi } from '../shared/platform/signed-lookup.js';
import type { LookupApi, LookupResponse } from '../shared/platform/signed-lookup.js';
import type { LookupAccess } from './stack-target.js';
import { FileRecordJsonSchema, UpstreamDeletionJsonSchema } from '../shared/contracts/file-record-schema.js';
import type { FileRecordJson, UpstreamDeletionJson } from '../shared/contracts/file-record-schema.js';
import { POLLER_SOURCES } from '../shared/contracts/discovery-sources.js';
import { LOOKUP_ROUTES } from '../shared/contracts/lookup-routes.js';
import type { LookupRole } from '../shared/contracts/lookup-routes.js';

// The record schema is the contract's own (shared/contracts/file-record-schema.ts), so a status or
// field the stack gains cannot make the CLI refuse its records as "of an unexpected shape".
export const FileRecordSchema = FileRecordJsonSchema;
export type { FileRecordJson, UpstreamDeletionJson as UpstreamDeletion };
const UpstreamDeletionSchema = UpstreamDeletionJsonSchema;

const ChatPageSchema = z.looseObject({
  chatId: z.string(),
  chatDeletion: z.optional(UpstreamDeletionSchema),
  files: z.array(FileRecordSchema),
  nextCursor: z.string().optional(),
});

const LedgerRunSchema = z.looseObject({
  source: z.enum(POLLER_SOURCES),
  runId: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  ending: z.enum(['completed', 'deadline', 'cursor_rejected', 'throttled', 'failed']),
  cursorStart: z.string().nullable(),
  cursorEnd: z.string().nullable(),
  pages: z.number(),
  records: z.number(),
  invalidRecords: z.number(),
  jobsEnqueued: z.number(),
  windowStart: z.string().nullable(),
  windowEnd: z.string().nullable(),
  lastRequestId: z.string().nullable(),
  error: z.string().nullable(),
});
export type LedgerRun = z.infer<typeof LedgerRunSchema>;

const LedgerPageSchema = z.looseObject({
  source: z.string(),
  runs: z.array(LedgerRunSchema),
  nextCursor: z.string().optional(),
});

/** An export job as the API returns it (docs/lookup-api.md); only the fields the CLI acts on are checked. */
export const ExportJobSchema = z.looseObject({
  exportId: z.string(),
  status: z.enum(['queued', 'running', 'completed', 'failed']),
  counts: z.looseObject({
    matched: z.number(),
    exported: z.number(),
    notArchived: z.number(),
    payloadBytes: z.number(),
  }),
  error: z.string().nullable(),
  download: z.looseObject({ url: z.string(), sha256: z.string(), bytes: z.number() }).optional(),
});
export type ExportJobJson = z.infer<typeof ExportJobSchema>;
const SearchPageSchema = z.looseObject({
  accessPattern: z.string(),
  files: z.array(FileRecordSchema),
  nextCursor: z.string().optional(),
});

const TrailEventSchema = z.looseObject({
  at: z.string(),
  principal: z.string(),
  action: z.string(),
  scope: z.record(z.string(), z.string()),
  status: z.number(),
  fileId: z.string().optional(),
  resultFileIds: z.array(z.string()).optional(),
  errorType: z.string().optional(),
  sourceIp: z.string().nullable(),
  userAgent: z.string().nullable(),
});
export type TrailEventJson = z.infer<typeof TrailEventSchema>;
const TrailPageSchema = z.looseObject({ events: z.array(TrailEventSchema), nextCursor: z.string().optional() });

const ErrorBodySchema = z.object({ error: z.object({ type: z.string(), message: z.string() }) });

/** The API answered 404 for the thing asked about. */
export class NotFoundError extends CliError {}

export interface LookupClient {
  getFile(fileId: string): Promise<FileRecordJson>;
  /** Every record of the chat, following `nextCursor` to the last page. */
  listChat(chatId: string): Promise<{ chatId: string; chatDeletion?: UpstreamDeletionJson; files: FileRecordJson[] }>;
  /** The presigned URL the content route redirects to. */
  contentUrl(fileId: string): Promise<string>;
  /** A poller's ledger, newest run first, down to and including the first run that started before `sinceMs`. */
  listLedger(source: LedgerRun['source'], sinceMs: number): Promise<LedgerRun[]>;
  /** `POST /holds`: the matter as recorded, and whether this call created it (202) or found it (200). */
  placeHold(request: unknown): Promise<{ created: boolean; matter: MatterJson }>;
  /** `DELETE /holds/{matterId}`. */
  releaseHold(matterId: string): Promise<MatterJson>;
  listHolds(): Promise<MatterJson[]>;
  getHold(matterId: string): Promise<MatterJson>;
  /** `POST /files/{fileId}/verify`: the fixity check the API made and recorded. */
  verifyFile(fileId: string, tier: 'cheap' | 'deep'): Promise<FixityCheckJson>;
  /** Starts an export (POST /exports); the job as the API answered. */
  startExport(request: unknown): Promise<ExportJobJson>;
  getExport(exportId: string): Promise<ExportJobJson>;
  /** GET /search/files with these filters, following `nextCursor` until `max` records. */
  search(
    filters: Record<string, string>,
    max: number,
  ): Promise<{ accessPattern: string; files: FileRecordJson[]; more: boolean }>;
  /** GET /audit with these filters, following `nextCursor` until `max` events. */
  audit(filters: Record<string, string>, max: number): Promise<{ events: TrailEventJson[]; more: boolean }>;
}

const FixityCheckSchema = z.looseObject({
  fileId: z.string(),
  event: z.looseObject({
    tier: z.enum(['cheap', 'deep']),
    outcome: z.enum(['passed', 'failed']),
    detail: z.string(),
    at: z.string(),
  }),
});
export type FixityCheckJson = z.infer<typeof FixityCheckSchema>;

/** A legal-hold matter as the API returns it; only the fields the CLI shows are checked. */
export const MatterSchema = z.looseObject({
  matterId: z.string(),
  reason: z.string(),
  status: z.enum(['active', 'released']),
  scope: z.record(z.string(), z.unknown()),
  placedBy: z.string(),
  placedAt: z.string(),
  releasedBy: z.string().optional(),
  releasedAt: z.string().optional(),
  progress: z.looseObject({
    action: z.enum(['place', 'release']),
    scanned: z.number(),
    matched: z.number(),
    changed: z.number(),
    done: z.boolean(),
  }),
});
export type MatterJson = z.infer<typeof MatterSchema>;

export function createLookupClient(access: LookupAccess, dispatcher?: Dispatcher): LookupClient {
  const base = new URL(access.url.endsWith('/') ? access.url : `${access.url}/`);
  // Deployed: the smoke test's signed transport (SigV4 for execute-api); local: plain HTTP.
  const transport: LookupApi = access.signWithRegion
    ? createSignedLookupApi(base.href, access.signWithRegion)
    : plainLookupApi(base, dispatcher);

  async function get(
    path: string,
    query: Record<string, string> = {},
    write?: { method: 'POST' | 'DELETE'; body?: unknown },
  ): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
    const qs = new URLSearchParams(query).toString();
    const target = `${path.replace(/^\//, '')}${qs ? `?${qs}` : ''}`;
    let res: LookupResponse;
    try {
      res = write ? await transport.send(write.method, target, write.body) : await transport.get(target);
    } catch (err) {
      if (err instanceof Error && err.name === 'CredentialsProviderError')
        throw new CliError(`cannot sign the request: ${describeCredentialsError(err)}`);
      throw new CliError(
        `cannot reach the lookup API at ${base.origin}: ` +
          `${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
      );
    }
    if (res.status >= 400) throw apiError(res.status, res.json, new URL(target, base), write?.method ?? 'GET', path);
    return { status: res.status, headers: res.headers, body: res.json };
  }

  return {
    async getFile(fileId) {
      const res = await get(`/files/${encodeURIComponent(fileId)}`);
      return parse(FileRecordSchema, res.body, 'file record');
    },
    async listChat(chatId) {
      const files: FileRecordJson[] = [];
      let chatDeletion: UpstreamDeletionJson | undefined;
      let cursor: string | undefined;
      for (let page = 0; page < 100_000; page++) {
        const res = await get(`/chats/${encodeURIComponent(chatId)}/files`, {
          limit: '100',
          ...(cursor ? { cursor } : {}),
        });
        const body = parse(ChatPageSchema, res.body, 'chat listing');
        chatDeletion ??= body.chatDeletion;
        files.push(...body.files);
        cursor = body.nextCursor;
        if (!cursor) break;
      }
      return { chatId, ...(chatDeletion ? { chatDeletion } : {}), files };
    },
    async listLedger(source, sinceMs) {
      const runs: LedgerRun[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 100_000; page++) {
        const res = await get(`/discovery/${source}/runs`, { limit: '100', ...(cursor ? { cursor } : {}) });
        const body = parse(LedgerPageSchema, res.body, 'ledger page');
        runs.push(...body.runs);
        cursor = body.nextCursor;
        // One run from before the period is kept, to join the period's first run to.
        if (!cursor || body.runs.some((r) => Date.parse(r.startedAt) < sinceMs)) break;
      }
      const firstBefore = runs.findIndex((r) => Date.parse(r.startedAt) < sinceMs);
      return firstBefore < 0 ? runs : runs.slice(0, firstBefore + 1);
    },
    async verifyFile(fileId, tier) {
      const res = await get(`/files/${encodeURIComponent(fileId)}/verify`, { tier }, { method: 'POST' });
      return parse(FixityCheckSchema, res.body, 'fixity check');
    },
    async placeHold(request) {
      const res = await get('/holds', {}, { method: 'POST', body: request });
      return { created: res.status === 202, matter: parse(MatterSchema, res.body, 'matter') };
    },
    async releaseHold(matterId) {
      const res = await get(`/holds/${encodeURIComponent(matterId)}`, {}, { method: 'DELETE' });
      return parse(MatterSchema, res.body, 'matter');
    },
    async listHolds() {
      const res = await get('/holds');
      return parse(z.looseObject({ matters: z.array(MatterSchema) }), res.body, 'matter list').matters;
    },
    async getHold(matterId) {
      const res = await get(`/holds/${encodeURIComponent(matterId)}`);
      return parse(MatterSchema, res.body, 'matter');
    },
    async startExport(request) {
      const res = await get('/exports', {}, { method: 'POST', body: request });
      return parse(ExportJobSchema, res.body, 'export job');
    },
    async getExport(exportId) {
      const res = await get(`/exports/${encodeURIComponent(exportId)}`);
      return parse(ExportJobSchema, res.body, 'export job');
    },
    async search(filters, max) {
      const files: FileRecordJson[] = [];
      let accessPattern = '';
      let cursor: string | undefined;
      while (files.length < max) {
        const limit = String(Math.min(100, max - files.length));
        const res = await get('/search/files', { ...filters, limit, ...(cursor ? { cursor } : {}) });
        const body = parse(SearchPageSchema, res.body, 'search page');
        accessPattern = body.accessPattern;
        files.push(...body.files);
        cursor = body.nextCursor;
        if (!cursor) break;
      }
      return { accessPattern, files, more: cursor !== undefined };
    },
    async audit(filters, max) {
      const events: TrailEventJson[] = [];
      let cursor: string | undefined;
      // The API reads a missing `to` as the time of each request, and a cursor is valid only for the
      // window of the page that issued it: without this, every second page was refused. So the first
      // request's "now" is pinned for all pages (events recorded meanwhile are left out, as any window's).
      const window = filters['to'] === undefined ? { ...filters, to: new Date().toISOString() } : filters;
      while (events.length < max) {
        const limit = String(Math.min(200, max - events.length));
        const res = await get('/audit', { ...window, limit, ...(cursor ? { cursor } : {}) });
        const body = parse(TrailPageSchema, res.body, 'audit page');
        events.push(...body.events);
        cursor = body.nextCursor;
        if (!cursor) break;
      }
      return { events, more: cursor !== undefined };
    },
    async contentUrl(fileId) {
      const res = await get(`/files/${encodeURIComponent(fileId)}/content`);
      const location = res.headers['location'];
      if (res.status !== 302 || !location)
        throw new CliError(`the lookup API answered ${res.status} without a download location`);
      return location;
    },
  };
}

function apiError(status: number, body: unknown, url: URL, method: string, path: string): CliError {
  const parsed = ErrorBodySchema.safeParse(body);
  // API Gateway's own refusals ({"message": "..."}) carry no error type.
  const gateway = z.object({ message: z.string() }).safeParse(body);
  const message = parsed.success
    ? parsed.data.error.message
    : gateway.success
      ? gateway.data.message
      : `HTTP ${status}`;
  if (status === 404 && parsed.success) return new NotFoundError(message);
  if (status === 409 && parsed.data?.error.type === 'conflict')
    return new CliError(`the lookup API refused the request: ${message}`, EXIT.usage);
  if (status === 400) return new CliError(`the lookup API refused the request: ${message}`, EXIT.usage);
  if (status === 403) {
    return new CliError(`the lookup API denied access (403): ${message}; ${neededPolicy(method, path)}`);
  }
  return new CliError(`the lookup API answered ${status} for ${url.pathname}: ${message}`);
}

/** The stack's managed policy for each role (infra/constructs/lookup-rest-api.ts; stack outputs `<Role>PolicyArn`). */
const POLICY_NAMES: Record<LookupRole, string> = {
  auditor: 'auditor (AuditorPolicyArn)',
  legalAdmin: 'legal admin (LegalAdminPolicyArn)',
  operator: 'operator (OperatorPolicyArn)',
};

/**
 * What a 403 on `method path` asks of the caller: the policies that grant the route, from its `roles`
 * (shared/contracts/lookup-routes.ts), so a refused hold or export names the legal admin policy, not the
 * auditor's. `path` is the route's path under the API's base (no query).
 */
export function neededPolicy(method: string, path: string): string {
  const segments = path.replace(/^\/+/, '').split('/');
  const route = LOOKUP_ROUTES.find((r) => {
    if (r.method !== method) return false;
    const template = r.resource.replace(/^\//, '').split('/');
    return template.length === segments.length && template.every((t, i) => /^\{\w+\}$/.test(t) || t === segments[i]);
  });
  if (!route) return 'the caller needs a policy of this stack that grants this route (execute-api:Invoke)';
  const names = (route.roles as readonly LookupRole[]).map((r) => POLICY_NAMES[r]);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  return `${route.method} ${route.resource} needs the stack's ${list} policy (execute-api:Invoke)`;
}

function parse<T>(schema: z.core.$ZodType<T>, body: unknown, what: string): T {
  // z.safeParse takes a classic schema and one of shared/'s zod/mini schemas alike.
  const parsed = z.safeParse(schema, body);
  if (!parsed.success) throw new CliError(`the lookup API sent a ${what} of an unexpected shape`);
  return parsed.data;
}

/** The local lookup server takes unsigned requests. */
function plainLookupApi(base: URL, dispatcher: Dispatcher | undefined): LookupApi {
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<LookupResponse> => {
    const url = new URL(path, base);
    const res = await request(url, {
      method,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(dispatcher ? { dispatcher } : {}),
    });
    const text = await res.body.text();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers, json };
  };
  return { get: (path) => call('GET', path), send: (method, path, body) => call(method, path, body) };
}

export function describeCredentialsError(err: unknown): string {
  const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
  if (err instanceof Error && err.name === 'CredentialsProviderError') {
    return (
      'no AWS credentials found (set AWS_PROFILE, run "aws sso login", ' +
      'or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)'
    );
  }
  return message;
}

/** A file's record through the lookup API; a file the index has never seen is one clear error line. */
export async function getSeenFile(client: LookupClient, fileId: string, stackLabel: string): Promise<FileRecordJson> {
  try {
    return await client.getFile(fileId);
  } catch (err) {
    if (err instanceof NotFoundError) throw new CliError(`no file ${fileId} has been seen by ${stackLabel}`);
    throw err;
  }
}
