/**
 * The console's one way to the lookup API: one function per route, each returning the route's typed
 * answer or throwing an ApiError. A new route is one function here and one screen that calls it.
 *
 * The types are the lookup API's own (shared/contracts/, imported as types only, so nothing of the
 * server is bundled). A workbench route (search, access trail, holds, fixity, exports) a stack does not
 * serve answers 404 (the local server: "No such route") or
 * 403 (API Gateway answers a resource it does not have with 403 "Missing Authentication Token", and
 * IAM answers a role without the route's grant with 403), and the client reports that as
 * `unavailable`, which the screens show in words instead of an error.
 */
import type { LedgerGap } from '../../../cli/ledger-gaps.js';
import type {
  LedgerRecord,
  PollerSource,
  UnitFailure,
  UpstreamDeletionRecord,
} from '../../../shared/contracts/discovery-ledger.js';
import type { ExportJob, ExportRequest } from '../../../shared/contracts/exports.js';
import type { FileRecord } from '../../../shared/contracts/file-records.js';
import type { FixityEvent, FixitySummary, FixityTier } from '../../../shared/contracts/fixity.js';
import type { HoldScope, Matter, PlaceHoldRequest } from '../../../shared/contracts/holds.js';
import type { ExportView } from '../../../shared/export/export-requests.js';

/** Sends one request; the deployed console signs it (SigV4), the local one sends it as is. */
export type Send = (url: string, init: RequestInit) => Promise<Response>;

export type FileEvidence = FileRecord & { upstreamDeletions?: UpstreamDeletionRecord[] };

export interface ChatFilesPage {
  chatId: string;
  chatDeletion?: UpstreamDeletionRecord;
  files: FileEvidence[];
  nextCursor?: string;
}

export interface LedgerPage {
  source: PollerSource;
  runs: LedgerRecord[];
  /** The gaps among this page's runs, by the `archiver ledger` rules (the console redraws them over all pages). */
  gaps: LedgerGap[];
  nextCursor?: string;
}

/** GET /search/files (issue 15): every filter optional; `creator` is a user id or an e-mail address. */
export interface SearchFilters {
  creator?: string;
  /** Dates (YYYY-MM-DD) or RFC 3339 timestamps, on upstream creation time. */
  from?: string;
  to?: string;
  chat?: string;
  project?: string;
  /** A prefix of the file name. */
  filename?: string;
  sha256?: string;
  md5?: string;
  status?: string;
  source?: string;
  /** `failed`: archived files whose latest fixity check failed. */
  fixity?: 'failed';
  order?: 'newest' | 'oldest';
}

export interface FilesPage {
  files: FileEvidence[];
  nextCursor?: string;
}

/** GET /audit (issue 15): one access-trail event, as the lookup API records it for every request. */
export interface AuditEvent {
  at: string;
  eventId?: string;
  /** The signing principal's ARN. */
  principal: string;
  /** The route, e.g. `GET /files/{fileId}`. */
  action: string;
  scope?: Record<string, string>;
  fileId?: string;
  resultFileIds?: string[];
  /** The HTTP status answered, and the error type of a refusal. */
  status: number;
  errorType?: string;
  sourceIp?: string | null;
  userAgent?: string | null;
}

export interface AuditFilters {
  from?: string;
  to?: string;
  principal?: string;
  fileId?: string;
}

export interface AuditPage {
  events: AuditEvent[];
  nextCursor?: string;
}

/** What a hold or an export covers (shared/contracts/holds.ts, exports.ts): users, chats, projects, files, a window. */
export type Scope = HoldScope;
export type { Matter, PlaceHoldRequest, FixityEvent, FixitySummary, ExportRequest, ExportJob, ExportView, UnitFailure };

/** `POST /files/{fileId}/verify`'s answer: the check just made, and the record's summary after it. */
export interface VerifyResult {
  fileId: string;
  event: FixityEvent;
  fixity: FixitySummary;
}

export type ApiErrorKind =
  | 'unavailable'
  | 'not_found'
  | 'invalid_request'
  | 'not_archived'
  | 'denied'
  | 'server'
  | 'network';

/** What went wrong, in words a screen can show. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export interface ApiClient {
  getFile(fileId: string): Promise<FileEvidence>;
  listChatFiles(chatId: string, page?: { limit?: number; cursor?: string }): Promise<ChatFilesPage>;
  /** The presigned URL of the exact archived version (the route's JSON form, for a browser). */
  downloadUrl(fileId: string): Promise<string>;
  listRuns(source: PollerSource, page?: { limit?: number; cursor?: string }): Promise<LedgerPage>;
  searchFiles(filters: SearchFilters, page?: { limit?: number; cursor?: string }): Promise<FilesPage>;
  listAudit(filters: AuditFilters, page?: { limit?: number; cursor?: string }): Promise<AuditPage>;
  listHolds(): Promise<{ matters: Matter[] }>;
  getHold(matterId: string): Promise<Matter>;
  /** 202 with the new matter (its sweep queued), or 200 with the existing one when the same matter was placed. */
  placeHold(input: PlaceHoldRequest): Promise<Matter>;
  /** 202 with the matter marked released; the release sweep runs after. */
  releaseHold(matterId: string): Promise<Matter>;
  /** Re-proves the archived copy now and records the check on the file's record. */
  verifyFile(fileId: string, tier: FixityTier): Promise<VerifyResult>;
  startExport(input: ExportRequest): Promise<ExportJob>;
  /** The job; once completed, with a short-lived `download` link. */
  getExport(exportId: string): Promise<ExportView>;
}

type Query = Record<string, string | number | undefined>;

/** Builds the client over a base URL (with or without a stage path) and a sender. */
export function createApiClient(baseUrl: string, send: Send): ApiClient {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const urlOf = (path: string, query: Query = {}): string => {
    const url = new URL(path.replace(/^\//, ''), base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    return url.toString();
  };
  const seg = encodeURIComponent;

  async function call<T>(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown; workbench?: boolean } = {},
  ): Promise<T> {
    const init: RequestInit = { method, headers: { accept: 'application/json' } };
    if (opts.body !== undefined) {
      init.headers = { accept: 'application/json', 'content-type': 'application/json' };
      init.body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await send(urlOf(path, opts.query), init);
    } catch (err) {
      throw new ApiError(
        'network',
        `The lookup API could not be reached (${err instanceof Error ? err.message : String(err)}).`,
        null,
      );
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok) {
      if (body === undefined || typeof body !== 'object' || body === null)
        throw new ApiError('server', `The lookup API answered ${res.status} without a JSON body.`, res.status);
      return body as T;
    }
    throw errorOf(res.status, body, opts.workbench === true);
  }

  return {
    getFile: (fileId) => call('GET', `/files/${seg(fileId)}`),
    listChatFiles: (chatId, page = {}) => call('GET', `/chats/${seg(chatId)}/files`, { query: { ...page } }),
    async downloadUrl(fileId) {
      const body = await call<{ url?: unknown }>('GET', `/files/${seg(fileId)}/content`, {
        query: { redirect: 'false' },
      });
      if (typeof body.url !== 'string') throw new ApiError('server', 'The download answer carried no URL.', 200);
      return body.url;
    },
    // The operator's route (shared/contracts/lookup-routes.ts): an auditor's role is refused it (403).
    listRuns: (source, page = {}) =>
      call('GET', `/discovery/${seg(source)}/runs`, { query: { ...page }, workbench: true }),
    searchFiles: (filters, page = {}) =>
      call('GET', '/search/files', { query: { ...filters, ...page }, workbench: true }),
    listAudit: (filters, page = {}) => call('GET', '/audit', { query: { ...filters, ...page }, workbench: true }),
    listHolds: () => call('GET', '/holds', { workbench: true }),
    getHold: (matterId) => call('GET', `/holds/${seg(matterId)}`, { workbench: true }),
    placeHold: (input) => call('POST', '/holds', { body: input, workbench: true }),
    releaseHold: (matterId) => call('DELETE', `/holds/${seg(matterId)}`, { workbench: true }),
    verifyFile: (fileId, tier) => call('POST', `/files/${seg(fileId)}/verify`, { query: { tier }, workbench: true }),
    startExport: (input) => call('POST', '/exports', { body: input, workbench: true }),
    getExport: (exportId) => call('GET', `/exports/${seg(exportId)}`, { workbench: true }),
  };
}

/** Maps an error answer to words; on a workbench route, 404 and 403 mean the stack does not offer it. */
export function errorOf(status: number, body: unknown, workbench: boolean): ApiError {
  const detail = messageOf(body);
  if (workbench && (status === 404 || status === 403 || status === 405))
    return new ApiError('unavailable', 'Not available on this API: this stack does not offer it to you.', status);
  if (status === 403)
    return new ApiError('denied', `Access denied${detail ? `: ${detail}` : ''}. Your role may not call this.`, status);
  if (status === 404) return new ApiError('not_found', detail ?? 'Not found.', status);
  if (status === 409) return new ApiError('not_archived', detail ?? 'The file has no archived copy.', status);
  if (status >= 400 && status < 500) return new ApiError('invalid_request', detail ?? `Refused (${status}).`, status);
  return new ApiError('server', `The lookup API failed (${status}); try again later.`, status);
}

function messageOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'object' && error !== null) {
    const m = (error as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  }
  // API Gateway's own answers: {"message": "..."}
  const m = (body as { message?: unknown }).message;
  return typeof m === 'string' ? m : undefined;
}
