import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { describe } from '../platform/errors.js';
import { InvalidCursorError } from '../index/dynamodb-file-index.js';
import type { FileRepository } from '../index/dynamodb-file-index.js';
import { ChatIdSchema, FileIdSchema } from '../contracts/ids.js';
import type { Log } from '../platform/telemetry.js';
import { POLLER_SOURCES } from '../contracts/discovery-ledger.js';
import type { LedgerRecord, PollerSource } from '../contracts/discovery-ledger.js';
import type { UpstreamDeletionRecord } from '../index/dynamodb-upstream-deletions.js';

/** The discovery ledger and upstream deletions as the lookup API reads them. */
export interface DiscoveryReads {
  listLedger(source: PollerSource, limit: number, cursor: string | undefined): Promise<{ runs: LedgerRecord[]; nextCursor: string | undefined }>;
  getUpstreamDeletions(ids: readonly string[]): Promise<UpstreamDeletionRecord[]>;
}

/** Raised by `listLedger` for a cursor it did not issue. */
export function isInvalidCursor(err: unknown): boolean {
  return err instanceof InvalidCursorError || (err instanceof Error && err.name === 'InvalidLedgerCursorError');
}

export interface LookupDeps {
  repository: FileRepository;
  discovery: DiscoveryReads;
  s3: S3Client;
  presignTtlSeconds: number;
  log: Log;
}

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

/** An error whose message is safe to show the caller (4xx). Anything else answers a generic 500. */
class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const ListQuerySchema = z.object({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, { message: 'limit must be a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_PAGE_SIZE, { message: `limit must be between 1 and ${MAX_PAGE_SIZE}` }))
    .optional(),
  cursor: z.string().min(1).max(1024).optional(),
});

/** API Gateway REST (proxy integration) handler for the auditors' lookup API. */
export function createLookupHandler(deps: LookupDeps): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  return async (event) => {
    const caller = callerOf(event);
    let result: APIGatewayProxyResult;
    try {
      result = await route(event, deps);
    } catch (err) {
      if (err instanceof HttpError) {
        result = errorResponse(err.statusCode, err.type, err.message);
      } else {
        deps.log.error('lookup failed', { resource: event.resource, error: describe(err) });
        result = errorResponse(500, 'internal_error', 'The request could not be completed.');
      }
    }
    // The access trail: who looked at what, and what they were told.
    deps.log.info('lookup', {
      caller,
      method: event.httpMethod,
      resource: event.resource,
      path: event.path,
      status: result.statusCode,
      requestId: event.requestContext?.requestId,
    });
    return result;
  };
}

async function route(event: APIGatewayProxyEvent, deps: LookupDeps): Promise<APIGatewayProxyResult> {
  if (event.httpMethod !== 'GET') throw new HttpError(405, 'method_not_allowed', 'Only GET is supported.');
  const params = event.pathParameters ?? {};
  switch (event.resource) {
    case '/chats/{chatId}/files': {
      const chatId = parseParam(ChatIdSchema, params['chatId'], 'chatId');
      const query = ListQuerySchema.safeParse(event.queryStringParameters ?? {});
      if (!query.success) throw new HttpError(400, 'invalid_request', firstMessage(query.error));
      let page;
      try {
        page = await deps.repository.listChat(chatId, query.data.limit ?? DEFAULT_PAGE_SIZE, query.data.cursor);
      } catch (err) {
        if (err instanceof InvalidCursorError) throw new HttpError(400, 'invalid_request', err.message);
        throw err;
      }
      const [chatDeletion] = await deps.discovery.getUpstreamDeletions([chatId]);
      return json(200, { chatId, ...(chatDeletion ? { chatDeletion } : {}), files: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) });
    }
    case '/discovery/{source}/runs': {
      const source = parseParam(z.enum(POLLER_SOURCES, { error: `must be one of ${POLLER_SOURCES.join(', ')}` }), params['source'], 'source');
      const query = ListQuerySchema.safeParse(event.queryStringParameters ?? {});
      if (!query.success) throw new HttpError(400, 'invalid_request', firstMessage(query.error));
      let page;
      try {
        page = await deps.discovery.listLedger(source, query.data.limit ?? DEFAULT_PAGE_SIZE, query.data.cursor);
      } catch (err) {
        if (isInvalidCursor(err)) throw new HttpError(400, 'invalid_request', 'cursor is not valid for this ledger');
        throw err;
      }
      return json(200, { source, runs: page.runs, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) });
    }
    case '/files/{fileId}': {
      const fileId = parseParam(FileIdSchema, params['fileId'], 'fileId');
      const record = await deps.repository.get(fileId);
      if (!record) throw new HttpError(404, 'not_found', 'No file with this id has been seen.');
      // Deleted upstream (the file, or a chat it belongs to): our copy stays, and the record says so.
      const upstreamDeletions = await deps.discovery.getUpstreamDeletions([fileId, ...record.chatIds]);
      return json(200, upstreamDeletions.length > 0 ? { ...record, upstreamDeletions } : record);
    }
    case '/files/{fileId}/content': {
      const fileId = parseParam(FileIdSchema, params['fileId'], 'fileId');
      const record = await deps.repository.get(fileId);
      if (!record) throw new HttpError(404, 'not_found', 'No file with this id has been seen.');
      if (record.status !== 'archived') {
        throw new HttpError(409, 'not_archived', `No archived copy exists (status: ${record.status}).`);
      }
      const url = await getSignedUrl(
        deps.s3,
        new GetObjectCommand({
          Bucket: record.bucket,
          Key: record.key,
          ...(record.versionId ? { VersionId: record.versionId } : {}),
          ResponseContentDisposition: record.contentDisposition,
          ResponseContentType: record.contentType,
        }),
        { expiresIn: deps.presignTtlSeconds },
      );
      return { statusCode: 302, headers: { Location: url, 'Cache-Control': 'no-store' }, body: '' };
    }
    default:
      throw new HttpError(404, 'not_found', 'No such route.');
  }
}

function parseParam<T>(schema: z.ZodType<T>, value: string | undefined, name: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'invalid_request', `${name} ${firstMessage(parsed.error)}`);
  return parsed.data;
}

function firstMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'is not valid';
}

function callerOf(event: APIGatewayProxyEvent): string | null {
  const identity = event.requestContext?.identity;
  return identity?.userArn ?? identity?.caller ?? null;
}

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: JSON.stringify(body) };
}

function errorResponse(statusCode: number, type: string, message: string): APIGatewayProxyResult {
  return json(statusCode, { error: { type, message } });
}
