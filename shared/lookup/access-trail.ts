import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from '../contracts/zod.js';
import { InstantSchema, instantOf, pageLimitSchema } from './query-params.js';
import { FileIdSchema } from '../contracts/ids.js';
import { RequestRejectedError } from '../platform/errors.js';

/**
 * The access trail: one append-only event per request the lookup API answers, whatever the route
 * (the HTTP dispatch records it: lookup-http.ts), whatever the outcome. Stored in the index table
 * (shared/index/dynamodb-access-trail.ts; keys in shared/contracts/search-index.ts), read back by
 * GET /audit and `archiver audit`.
 */
export interface TrailEvent {
  /** ISO time the request was answered. */
  at: string;
  eventId: string;
  /** The signing principal's ARN as API Gateway reports it; `unknown` when it reports none. */
  principal: string;
  /** The route, `GET /files/{fileId}`, or the method and path of a request that matched none. */
  action: string;
  /** Path parameters and query parameters (cursors left out), values cut to 256 characters. */
  scope: Record<string, string>;
  /** The file a file route named. */
  fileId?: string;
  /** The files a listing or search answered with (at most one page). */
  resultFileIds?: string[];
  /** The HTTP status answered, and the error type of a refusal. */
  status: number;
  errorType?: string;
  sourceIp: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface TrailPage {
  events: TrailEvent[];
  /** Opaque; undefined on the last page. */
  nextCursor: string | undefined;
}

/** Which events to read (all newest first): a key condition on one index or on the day partitions. */
export interface TrailQuery {
  from: string;
  to: string;
  principal: string | undefined;
  fileId: string | undefined;
  limit: number;
  cursor: string | undefined;
  /**
   * The window as the caller asked for it, when `from`/`to` were filled in from the clock (no `to`):
   * a cursor is then bound to this, carries the first page's resolved window, and later pages read
   * that window, so "now" moving between two requests neither refuses the cursor nor lets newer
   * events into a listing already under way.
   */
  asked?: { from: string | undefined; to: undefined };
}

/** The trail's store (a port). `record` only ever creates an event; nothing updates or deletes one. */
export interface AccessTrail {
  record(event: TrailEvent): Promise<void>;
  /** Throws InvalidCursorError for a cursor it did not issue for this query. */
  list(query: TrailQuery): Promise<TrailPage>;
}

const MAX_VALUE = 256;
const MAX_AGENT = 512;

/** Builds the event for one answered request. Untrusted values are cut, never interpreted. */
export function trailEventOf(
  event: APIGatewayProxyEvent,
  outcome: { status: number; errorType?: string | undefined; matchedRoute: string | undefined },
  note: { resultFileIds?: string[] } | undefined,
  now: Date,
): TrailEvent {
  const identity = event.requestContext?.identity;
  const scope: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.pathParameters ?? {}))
    if (typeof v === 'string') scope[cut(k, 64)] = cut(v, MAX_VALUE);
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) {
    if (typeof v !== 'string' || k === 'cursor') continue;
    if (Object.keys(scope).length >= 20) break;
    scope[cut(k, 64)] = cut(v, MAX_VALUE);
  }
  const fileId = FileIdSchema.safeParse(event.pathParameters?.['fileId']);
  const headerAgent = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'user-agent')?.[1];
  const agent = identity?.userAgent ?? headerAgent ?? null;
  return {
    at: now.toISOString(),
    eventId: randomUUID(),
    principal: cut(identity?.userArn ?? identity?.caller ?? 'unknown', 2048),
    action: outcome.matchedRoute ?? cut(`${event.httpMethod} ${event.path ?? event.resource ?? ''}`, MAX_VALUE),
    scope,
    ...(fileId.success ? { fileId: fileId.data } : {}),
    ...(note?.resultFileIds && note.resultFileIds.length > 0
      ? { resultFileIds: note.resultFileIds.slice(0, 100) }
      : {}),
    status: outcome.status,
    ...(outcome.errorType ? { errorType: outcome.errorType } : {}),
    sourceIp: identity?.sourceIp ? cut(identity.sourceIp, 64) : null,
    userAgent: agent === null ? null : cut(agent, MAX_AGENT),
    requestId: event.requestContext?.requestId ? cut(event.requestContext.requestId, 128) : null,
  };
}

function cut(value: string, max: number): string {
  return value.length > max ? value.slice(0, max) : value;
}

export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;
/** Without principal or fileId, the days before `to` that are read when `from` is not given. */
export const AUDIT_DEFAULT_DAYS = 7;

export const AuditQuerySchema = z.object({
  from: z.optional(InstantSchema),
  to: z.optional(InstantSchema),
  principal: z.optional(
    z
      .string()
      .check(
        z.minLength(1),
        z.maxLength(2048),
        z.regex(/^[A-Za-z0-9+=,.@_/:-]+$/, { message: 'principal must be an IAM principal ARN' }),
      ),
  ),
  fileId: z.optional(FileIdSchema),
  limit: z.optional(pageLimitSchema(AUDIT_PAGE_MAX)),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;
export const AUDIT_QUERY_PARAMETERS = Object.keys(AuditQuerySchema.shape) as (keyof AuditQuery)[];

/** One page of the trail, newest first. */
export async function readTrail(trail: AccessTrail, query: AuditQuery, now: Date): Promise<TrailPage> {
  const to = query.to === undefined ? now.toISOString() : instantOf(query.to, 'end');
  const byKey = query.principal !== undefined || query.fileId !== undefined;
  const from =
    query.from !== undefined
      ? instantOf(query.from, 'start')
      : byKey
        ? '0000-01-01T00:00:00.000Z'
        : new Date(Date.parse(to) - AUDIT_DEFAULT_DAYS * 86_400_000).toISOString();
  if (from > to) throw new RequestRejectedError('invalid_request', 'from must not be after to');
  return trail.list({
    from,
    to,
    principal: query.principal,
    fileId: query.fileId,
    limit: query.limit ?? AUDIT_PAGE_DEFAULT,
    cursor: query.cursor,
    ...(query.to === undefined ? { asked: { from: query.from, to: undefined } } : {}),
  });
}
