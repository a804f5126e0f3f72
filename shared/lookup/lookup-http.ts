// Over 400 lines: the dispatch table with every route's input schema; the workbench routes' handlers
// should move beside their use cases as the table grows (issue 15 note).
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from '../contracts/zod.js';
import { pageLimitSchema } from './query-params.js';
import type { DownloadSigner } from '../archive/archive-store.js';
import { ChatIdSchema, FileIdSchema } from '../contracts/ids.js';
import { LOOKUP_ROUTES } from '../contracts/lookup-routes.js';
import type { RouteKey } from '../contracts/lookup-routes.js';
import { describeError, RequestRejectedError } from '../platform/errors.js';
import type { RejectionKind } from '../platform/errors.js';
import type { Log } from '../platform/telemetry.js';
import { listChatFiles, presignFileDownload, readFileRecord } from './read-files.js';
import type { FileReader } from './read-files.js';
import { POLLER_SOURCES } from '../contracts/discovery-ledger.js';
import { FIXITY_TIERS } from '../contracts/fixity.js';
import { MatterIdSchema, PlaceHoldRequestSchema } from '../contracts/holds.js';
import { verifyFile } from '../fixity/check-copy.js';
import type { FixityDeps } from '../fixity/check-copy.js';
import { placeMatter, releaseMatter } from '../holds/matters.js';
import type { MatterDeps } from '../holds/matters.js';
import { ExportIdSchema, ExportRequestSchema } from '../contracts/exports.js';
import { readExport, startExport } from '../export/export-requests.js';
import type { ExportRequests } from '../export/export-requests.js';
import { findGaps } from '../discovery/ledger-gaps.js';
import type { LedgerRecord, PollerSource, UpstreamDeletionRecord } from '../contracts/discovery-ledger.js';
import { AuditQuerySchema, readTrail, trailEventOf } from './access-trail.js';
import type { AccessTrail } from './access-trail.js';
import { SearchQuerySchema, searchFiles } from './search-files.js';
import type { FileSearchIndex } from './search-files.js';

/** The discovery ledger and upstream deletions as the lookup API reads them (a port). */
export interface DiscoveryReads {
  /** Newest run first. Throws InvalidCursorError for a cursor it did not issue. */
  listLedger(
    source: PollerSource,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ runs: LedgerRecord[]; nextCursor: string | undefined }>;
  getUpstreamDeletions(ids: readonly string[]): Promise<UpstreamDeletionRecord[]>;
}

/** The lookup API over HTTP (API Gateway REST, proxy integration): validation, dispatch, status codes. */
export interface LookupDeps {
  index: FileReader;
  discovery: DiscoveryReads;
  downloads: DownloadSigner;
  search: FileSearchIndex;
  trail: AccessTrail;
  presignTtlSeconds: number;
  /** Legal holds: the matters, and the queue their sweeps run on. */
  holds: MatterDeps;
  /** Fixity checks on demand: the stored copies, and the records the events go on. */
  fixity: FixityDeps;
  /** Exports (POST /exports, GET /exports/{id}); absent where the deployment has no export worker. */
  exports?: ExportRequests | undefined;
  /**
   * The auditor console's origin: every answer names it in Access-Control-Allow-Origin, so the
   * browser lets the console read it (API Gateway answers the preflight; a proxy integration's
   * answers carry the headers the function sets).
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html
   */
  corsOrigin?: string;
  log: Log;
  /** The clock (a period without an end, the trail's times, the ledger's staleness); the system clock by default. */
  now?: () => Date;
}

/** The largest request body read (an export request's scope lists at most 1000 ids of each kind). */
export const MAX_BODY_BYTES = 256 * 1024;

/** What a route answers, and what it adds to its access trail event (the files it showed). */
export type RouteResult = APIGatewayProxyResult & { trailNote?: { resultFileIds?: string[] } };

/** The runs route's interval without a run that ended on its own terms: the stalled alarms' 30 minutes. */
export const LEDGER_MAX_INTERVAL_SECONDS = 30 * 60;

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

/** The one mapping from a rejected request to an HTTP status; the kind is the error body's `type`. */
const STATUS_OF: Record<RejectionKind, number> = {
  invalid_request: 400,
  not_found: 404,
  method_not_allowed: 405,
  not_archived: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
};

/** What every handler learns besides its parameters: who called (the access trail's identity). */
interface CallContext {
  /** The caller's IAM identity (ARN), as API Gateway authenticated it; `unknown` when absent. */
  caller: string;
  signal: AbortSignal;
}

/** A route of the contract: its path and query parameters (validated in that order), and what it answers. */
export interface RouteHandler {
  /** Path parameters, one per `{name}` of the route's resource. */
  path: z.ZodMiniObject;
  /** Query parameters the route reads; unknown ones are ignored. */
  query: z.ZodMiniObject;
  /** The JSON body a POST route reads (validated after the path and query); absent for GETs. */
  body?: z.ZodMiniType;
  handle(
    input: { path: never; query: never; body: never; caller: string },
    deps: LookupDeps,
    call: CallContext,
  ): Promise<RouteResult>;
}

/** Ties a handler's input type to its schemas. */
function defineRoute<
  P extends z.ZodMiniObject,
  Q extends z.ZodMiniObject,
  B extends z.ZodMiniType = z.ZodMiniUndefined,
>(route: {
  path: P;
  query: Q;
  body?: B;
  handle(
    input: { path: z.infer<P>; query: z.infer<Q>; body: z.infer<B>; caller: string },
    deps: LookupDeps,
    call: CallContext,
  ): Promise<RouteResult>;
}): RouteHandler {
  return route as RouteHandler;
}

const ListQuerySchema = z.object({
  limit: z.optional(pageLimitSchema(MAX_PAGE_SIZE)),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
});
const ChatPath = z.object({ chatId: ChatIdSchema });
const FilePath = z.object({ fileId: FileIdSchema });
const NoQuery = z.object({});
const MatterPath = z.object({ matterId: MatterIdSchema });
const NoPath = z.object({});
const ExportPath = z.object({ exportId: ExportIdSchema });

function exportsOf(deps: LookupDeps): ExportRequests {
  if (!deps.exports) throw new RequestRejectedError('not_found', 'Exports are not enabled on this deployment.');
  return deps.exports;
}
const DownloadQuery = z.object({
  redirect: z.optional(z.enum(['true', 'false'], { error: 'redirect must be true or false' })),
});
const SourcePath = z.object({
  source: z.enum(POLLER_SOURCES, { error: `must be one of ${POLLER_SOURCES.join(', ')}` }),
});

/** One handler per route of the contract (shared/contracts/lookup-routes.ts): a missing one does not compile. */
export const LOOKUP_HANDLERS: Record<RouteKey, RouteHandler> = {
  'GET /chats/{chatId}/files': defineRoute({
    path: ChatPath,
    query: ListQuerySchema,
    async handle({ path: { chatId }, query: { limit, cursor } }, deps) {
      const page = await listChatFiles(deps.index, chatId, limit ?? DEFAULT_PAGE_SIZE, cursor);
      // Deleted upstream: the archived copies stay, and the listing says so.
      const [chatDeletion] = await deps.discovery.getUpstreamDeletions([chatId]);
      return {
        ...json(200, {
          chatId,
          ...(chatDeletion ? { chatDeletion } : {}),
          files: page.items,
          ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
        }),
        trailNote: { resultFileIds: page.items.map((f) => f.fileId) },
      };
    },
  }),
  'GET /files/{fileId}': defineRoute({
    path: FilePath,
    query: NoQuery,
    async handle({ path: { fileId } }, deps) {
      const record = await readFileRecord(deps.index, fileId);
      // Deleted upstream (the file, a chat it belongs to, or its project): our copy stays, and the record says so.
      const upstreamDeletions = await deps.discovery.getUpstreamDeletions([
        fileId,
        ...record.chatIds,
        ...(record.projectId ? [record.projectId] : []),
      ]);
      return json(200, upstreamDeletions.length > 0 ? { ...record, upstreamDeletions } : record);
    },
  }),
  'GET /files/{fileId}/content': defineRoute({
    path: FilePath,
    query: DownloadQuery,
    async handle({ path: { fileId }, query: { redirect } }, deps) {
      const url = await presignFileDownload(deps.index, deps.downloads, fileId, deps.presignTtlSeconds);
      // A browser cannot follow the redirect: the cross-origin hop to S3 would carry a null Origin and
      // drop the SigV4 headers. The console asks with redirect=false and fetches the URL itself.
      if (redirect === 'false') return json(200, { url, expiresInSeconds: deps.presignTtlSeconds });
      return { statusCode: 302, headers: { Location: url, 'Cache-Control': 'no-store' }, body: '' };
    },
  }),
  'POST /files/{fileId}/verify': defineRoute({
    path: FilePath,
    query: z.object({ tier: z.optional(z.enum(FIXITY_TIERS, { error: `must be one of ${FIXITY_TIERS.join(', ')}` })) }),
    async handle({ path: { fileId }, query: { tier } }, deps, { signal }) {
      const { event, record } = await verifyFile(fileId, tier ?? 'cheap', deps.fixity, signal);
      if (event.outcome === 'failed')
        deps.log.error('fixity check failed', { fileId, tier: event.tier, detail: event.detail, key: record.key });
      return json(200, { fileId, event, fixity: record.fixity });
    },
  }),
  'GET /discovery/{source}/runs': defineRoute({
    path: SourcePath,
    query: ListQuerySchema,
    async handle({ path: { source }, query: { limit, cursor } }, deps) {
      const page = await deps.discovery.listLedger(source, limit ?? DEFAULT_PAGE_SIZE, cursor);
      // The gaps among this page's runs (archiver ledger's rules); staleness only on the newest page.
      const gaps = findGaps(source, page.runs, {
        maxIntervalSeconds: LEDGER_MAX_INTERVAL_SECONDS,
        nowMs: (deps.now?.() ?? new Date()).getTime(),
      }).filter((g) => cursor === undefined || g.kind !== 'stale');
      return json(200, {
        source,
        runs: page.runs,
        gaps,
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      });
    },
  }),
  'POST /holds': defineRoute({
    path: z.object({}),
    query: NoQuery,
    body: PlaceHoldRequestSchema,
    async handle({ body }, deps, { caller, signal }) {
      const { created, matter } = await placeMatter(body, caller, deps.holds, signal);
      // 202: the matter is recorded and its sweep queued; GET /holds/{matterId} shows its progress.
      return json(created ? 202 : 200, matter);
    },
  }),
  'GET /holds': defineRoute({
    path: z.object({}),
    query: NoQuery,
    async handle(_input, deps) {
      return json(200, { matters: await deps.holds.matters.list() });
    },
  }),
  'GET /holds/{matterId}': defineRoute({
    path: MatterPath,
    query: NoQuery,
    async handle({ path: { matterId } }, deps) {
      const matter = await deps.holds.matters.get(matterId);
      if (!matter) throw new RequestRejectedError('not_found', `No matter ${matterId}.`);
      return json(200, matter);
    },
  }),
  'DELETE /holds/{matterId}': defineRoute({
    path: MatterPath,
    query: NoQuery,
    async handle({ path: { matterId } }, deps, { caller, signal }) {
      return json(202, await releaseMatter(matterId, caller, deps.holds, signal));
    },
  }),
  'GET /search/files': defineRoute({
    path: NoPath,
    query: SearchQuerySchema,
    async handle({ query }, deps) {
      const result = await searchFiles(deps.search, query, clockOf(deps)());
      deps.log.info('search', {
        accessPattern: result.accessPattern,
        readUnits: result.readUnits,
        found: result.files.length,
      });
      return {
        ...json(200, {
          accessPattern: result.accessPattern,
          files: result.files,
          ...(result.nextCursor ? { nextCursor: result.nextCursor } : {}),
        }),
        trailNote: { resultFileIds: result.files.map((f) => f.fileId) },
      };
    },
  }),
  'GET /audit': defineRoute({
    path: NoPath,
    query: AuditQuerySchema,
    async handle({ query }, deps) {
      const page = await readTrail(deps.trail, query, clockOf(deps)());
      return json(200, { events: page.events, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) });
    },
  }),
  'POST /exports': defineRoute({
    path: NoPath,
    query: NoQuery,
    body: ExportRequestSchema,
    async handle({ body, caller }, deps) {
      const job = await startExport(exportsOf(deps), body, caller, new Date());
      return {
        ...json(202, job),
        headers: {
          'Content-Type': 'application/json',
          'Cache-Control': 'no-store',
          Location: `/exports/${job.exportId}`,
        },
      };
    },
  }),
  'GET /exports/{exportId}': defineRoute({
    path: ExportPath,
    query: NoQuery,
    async handle({ path: { exportId } }, deps) {
      return json(200, await readExport(exportsOf(deps), exportId, deps.presignTtlSeconds));
    },
  }),
};

function clockOf(deps: LookupDeps): () => Date {
  return deps.now ?? (() => new Date());
}

const METHODS = [...new Set(LOOKUP_ROUTES.map((r) => r.method))];

/**
 * API Gateway REST (proxy integration) handler for the auditors' lookup API. Every request, whatever
 * its route and outcome, is recorded in the access trail before it is answered (a route added to the
 * contract is trailed without code of its own); when the trail cannot be written the answer is a 503,
 * never an answer nobody can account for.
 */
export function createLookupHandler(deps: LookupDeps): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  return async (event) => {
    const caller = callerOf(event);
    let result: RouteResult;
    let errorType: string | undefined;
    try {
      result = await dispatch(event, deps);
    } catch (err) {
      if (err instanceof RequestRejectedError) {
        errorType = err.kind;
        result = errorResponse(STATUS_OF[err.kind], err.kind, err.message);
      } else {
        deps.log.error('lookup failed', { resource: event.resource, error: describeError(err) });
        errorType = 'internal_error';
        result = errorResponse(500, 'internal_error', 'The request could not be completed.');
      }
    }
    const { trailNote, ...response } = result;
    const key = `${event.httpMethod} ${event.resource}`;
    const matchedRoute = Object.hasOwn(LOOKUP_HANDLERS, key) ? key : undefined;
    try {
      await deps.trail.record(
        trailEventOf(event, { status: response.statusCode, errorType, matchedRoute }, trailNote, clockOf(deps)()),
      );
    } catch (err) {
      deps.log.error('access trail write failed', { resource: event.resource, error: describeError(err) });
      return withCors(
        errorResponse(503, 'trail_unavailable', 'The request could not be recorded in the access trail; try again.'),
        deps.corsOrigin,
      );
    }
    deps.log.info('lookup', {
      caller,
      method: event.httpMethod,
      resource: event.resource,
      path: event.path,
      status: response.statusCode,
      requestId: event.requestContext?.requestId,
    });
    return withCors(response, deps.corsOrigin);
  };
}

/** Names the console's origin on an answer, so the browser lets the console read it. */
function withCors(response: APIGatewayProxyResult, origin: string | undefined): APIGatewayProxyResult {
  if (origin === undefined) return response;
  return { ...response, headers: { ...response.headers, 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } };
}

async function dispatch(event: APIGatewayProxyEvent, deps: LookupDeps): Promise<RouteResult> {
  if (!(METHODS as string[]).includes(event.httpMethod)) {
    throw new RequestRejectedError('method_not_allowed', `Only ${METHODS.join(', ')} is supported.`);
  }
  const key = `${event.httpMethod} ${event.resource}`;
  if (!Object.hasOwn(LOOKUP_HANDLERS, key)) {
    const allowed = LOOKUP_ROUTES.filter((r) => r.resource === event.resource).map((r) => r.method);
    if (allowed.length > 0) {
      throw new RequestRejectedError('method_not_allowed', `Only ${allowed.join(', ')} is supported here.`);
    }
    throw new RequestRejectedError('not_found', 'No such route.');
  }
  const route = LOOKUP_HANDLERS[key as RouteKey];
  const path = parseInput(route.path, event.pathParameters ?? {}, true);
  const query = parseInput(route.query, event.queryStringParameters ?? {}, false);
  const body = route.body ? parseBody(route.body, readJsonBody(event)) : undefined;
  // Sends to the queue give up a second before the function's 10 s timeout (infra/sizing.ts).
  const call = { caller: callerOf(event) ?? 'unknown', signal: AbortSignal.timeout(9_000) };
  return route.handle(
    { path, query, body, caller: call.caller } as { path: never; query: never; body: never; caller: string },
    deps,
    call,
  );
}

/** The request body as JSON: bounded, `application/json` (when a type is given), well-formed. */
function readJsonBody(event: APIGatewayProxyEvent): unknown {
  const type = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  if (type && !/^application\/json\s*(;|$)/i.test(type)) {
    throw new RequestRejectedError('unsupported_media_type', 'The body must be application/json.');
  }
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new RequestRejectedError('payload_too_large', `The body must be at most ${MAX_BODY_BYTES} bytes.`);
  }
  if (text.trim() === '') throw new RequestRejectedError('invalid_request', 'A JSON body is required.');
  try {
    return JSON.parse(text);
  } catch {
    throw new RequestRejectedError('invalid_request', 'The body is not valid JSON.');
  }
}

/** Validates untrusted input; a path parameter's message is prefixed with its name, as in `chatId must be…`. */
function parseInput(schema: z.ZodMiniObject, value: unknown, nameTheField: boolean): unknown {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const message = firstMessage(parsed.error);
  throw new RequestRejectedError(
    'invalid_request',
    nameTheField && issue ? `${issue.path.join('.')} ${message}` : message,
  );
}

/** Validates a JSON body; the message names where in the body the first problem is (`scope.chats.0: …`). */
function parseBody(schema: z.ZodMiniType, value: unknown): unknown {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new RequestRejectedError('invalid_request', `${where}${firstMessage(parsed.error)}`);
}

function firstMessage(error: z.core.$ZodError): string {
  return error.issues[0]?.message ?? 'is not valid';
}

function callerOf(event: APIGatewayProxyEvent): string | null {
  const identity = event.requestContext?.identity;
  return identity?.userArn ?? identity?.caller ?? null;
}

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    body: JSON.stringify(body),
  };
}

function errorResponse(statusCode: number, type: string, message: string): APIGatewayProxyResult {
  return json(statusCode, { error: { type, message } });
}
