import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ArchivedRecord, FailedRecord, UpstreamUser } from '../../shared/contracts/file-records.js';
import type { FileSource } from '../../shared/contracts/ids.js';
import type { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';

/** What a test says about a file it archives for the search tests; the rest is made up consistently. */
export interface SeedFile {
  fileId: string;
  source?: FileSource;
  creator?: UpstreamUser | null;
  projectId?: string | null;
  chatIds?: string[];
  filename?: string;
  createdAt: string;
  status?: 'archived' | 'failed' | 'pending';
  content?: string;
}

export const sha256Of = (s: string) => createHash('sha256').update(s).digest('hex');
export const md5Of = (s: string) => createHash('md5').update(s).digest('hex');

/** Writes a file's record through the index's own writes (claim, then archived or failed), as ingest does. */
export async function seedFile(index: DynamoDbFileIndex, f: SeedFile): Promise<void> {
  const source = f.source ?? 'generated';
  const owner = `seed-${f.fileId}`;
  const claimed = await index.claim(f.fileId, source, owner, Date.now(), 60_000);
  if (claimed.kind !== 'claimed') throw new Error(`could not claim ${f.fileId}: ${claimed.kind}`);
  const status = f.status ?? 'archived';
  if (status === 'pending') return;
  const content = f.content ?? `content of ${f.fileId}`;
  const base = {
    fileId: f.fileId,
    source,
    chatIds: f.chatIds ?? [],
    filename: f.filename ?? `${f.fileId}.txt`,
    mimeType: 'text/plain',
    createdAt: f.createdAt,
    upstreamRequestId: null,
    ...(f.creator === undefined ? {} : { creator: f.creator }),
    ...(f.projectId === undefined ? {} : { projectId: f.projectId }),
    organizationId: 'org_01Search',
  };
  if (status === 'failed') {
    const failed: FailedRecord = {
      ...base,
      sizeBytes: null,
      status: 'failed',
      reason: 'not_retryable',
      detail: 'upstream refused',
      upstreamErrorType: 'invalid_request_error',
      upstreamStatus: 400,
      failedAt: '2026-01-01T00:00:00.000Z',
    };
    await index.markFailed(failed, owner);
    return;
  }
  const archived: ArchivedRecord = {
    ...base,
    filename: base.filename,
    sizeBytes: content.length,
    status: 'archived',
    md5: md5Of(content),
    sha256: sha256Of(content),
    bucket: 'archive-bucket',
    key: `archive/${source}/${f.fileId}`,
    versionId: 'v1',
    contentType: 'text/plain',
    contentDisposition: 'attachment',
    archivedAt: '2026-01-01T00:00:00.000Z',
  };
  await index.markArchived(archived, owner);
}

/** A proxy event for a lookup route, as API Gateway sends it for a signed caller. */
export function lookupEvent(
  resource: string,
  query: Record<string, string> = {},
  pathParameters: Record<string, string> | null = null,
  principal = 'arn:aws:iam::111122223333:user/auditor-alice',
): APIGatewayProxyEvent {
  let path = resource;
  for (const [k, v] of Object.entries(pathParameters ?? {})) path = path.replace(`{${k}}`, v);
  return {
    httpMethod: 'GET',
    resource,
    path,
    pathParameters,
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    headers: { 'User-Agent': 'search-test/1.0' },
    requestContext: {
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      identity: { userArn: principal, caller: principal, sourceIp: '203.0.113.7', userAgent: 'search-test/1.0' },
    },
  } as unknown as APIGatewayProxyEvent;
}

export function bodyOf(res: APIGatewayProxyResult): Record<string, unknown> {
  return JSON.parse(res.body) as Record<string, unknown>;
}
