/**
 * Test support for exports: archived files seeded straight into a bucket and the index (as the
 * ingest path leaves them), and a bag checked with tools that share no code with the writer:
 * `unzip -t` and `unzip` (Info-ZIP), `sha256sum -c` and `md5sum -c` (coreutils), Payload-Oxum
 * recomputed from the unpacked files.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ArchivedRecord, FileRecord } from '../../shared/contracts/file-records.js';
import { objectKeyFor } from '../../shared/contracts/object-keys.js';
import { chatListingSortKey, chatPartition, fileItemKey, listingSortTime } from '../../shared/contracts/table-keys.js';
import { writeChatListings } from '../../shared/index/dynamodb-file-items.js';
import { searchAttributesOf } from '../../shared/contracts/search-index.js';
import { contentDisposition } from '../../shared/archive/content-disposition.js';
import { createDocumentClient, createS3Client } from '../../shared/platform/aws-clients.js';
import { recordCallsOf, type ResourceBindings } from './permissions/aws-call-recorder.js';

const run = promisify(execFile);

/** When the seeded files were recorded (their listing time when upstream gave no creation time). */
const RECORDED_AT = '2025-06-02T09:00:00.000Z';

export interface SeedFile {
  fileId: string;
  filename: string;
  content: Buffer;
  chatIds?: string[];
  projectId?: string | null;
  creator?: { id: string; emailAddress: string | null } | null;
  createdAt?: string | null;
  mimeType?: string;
}

/** Puts the object and writes the archived record as ingest would. */
export async function seedArchived(
  s3: S3Client,
  doc: DynamoDBDocumentClient,
  bucket: string,
  table: string,
  f: SeedFile,
): Promise<ArchivedRecord> {
  const source = f.fileId.startsWith('claude_gen_file_')
    ? 'generated'
    : f.fileId.startsWith('file_')
      ? 'files_api'
      : 'uploaded';
  const key = objectKeyFor(source, f.fileId);
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: f.content }));
  const record: ArchivedRecord = {
    status: 'archived',
    fileId: f.fileId,
    source,
    chatIds: f.chatIds ?? [],
    filename: f.filename,
    mimeType: f.mimeType ?? 'application/octet-stream',
    sizeBytes: f.content.byteLength,
    createdAt: f.createdAt === undefined ? '2025-06-01T10:00:00.000Z' : f.createdAt,
    upstreamRequestId: `req_${f.fileId.slice(-8)}`,
    md5: createHash('md5').update(f.content).digest('hex'),
    sha256: createHash('sha256').update(f.content).digest('hex'),
    bucket,
    key,
    versionId: put.VersionId ?? null,
    contentType: f.mimeType ?? 'application/octet-stream',
    contentDisposition: contentDisposition(f.filename),
    archivedAt: '2025-06-02T09:00:00.000Z',
    creator: f.creator === undefined ? { id: 'user_01', emailAddress: 'ada@example.com' } : f.creator,
    projectId: f.projectId ?? null,
  };
  await putRecord(doc, table, record);
  return record;
}

/**
 * Writes the file item as the file index leaves it (shared/index/dynamodb-file-index.ts): the record,
 * its listing time and its search attributes (searchAttributesOf; a pending file has those its claim
 * writes), so the search indexes an export reads hold it.
 */
export async function putRecord(doc: DynamoDBDocumentClient, table: string, record: FileRecord): Promise<void> {
  const { chatIds, ...rest } = record;
  const sortAt = listingSortTime(record.createdAt, RECORDED_AT);
  const search =
    record.status === 'pending'
      ? {
          sStatus: 'pending',
          sSource: record.source,
          searchAt: record.firstSeenAt,
          sMonth: record.firstSeenAt.slice(0, 7),
        }
      : { sortAt, ...searchAttributesOf(record, sortAt).set };
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        ...fileItemKey(record.fileId),
        ...rest,
        ...search,
        ...(chatIds.length > 0 ? { chatIds: new Set(chatIds) } : {}),
      },
    }),
  );
  // The chat listings, as the index writes them beside the file item.
  if (record.status !== 'pending') {
    await writeChatListings(doc, table, record, sortAt);
  } else {
    for (const chatId of chatIds) {
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: { ...record, pk: chatPartition(chatId), sk: chatListingSortKey(record.firstSeenAt, record.fileId) },
        }),
      );
    }
  }
}

export async function downloadObject(s3: S3Client, bucket: string, key: string, to: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = Buffer.from(await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  await writeFile(to, bytes);
  return bytes;
}

export interface CheckedBag {
  /** The unpacked bag's directory. */
  dir: string;
  bagInfo: Record<string, string>;
  /** Paths of the payload files, relative to the bag. */
  payload: string[];
  /** Output of the tools, for a failing test's message. */
  tools: string;
}

/**
 * Tests the ZIP with `unzip -t`, unpacks it, runs `sha256sum -c` and `md5sum -c` on the payload
 * manifests and `sha256sum -c` on the tag manifest, and recomputes Payload-Oxum. Throws on any
 * failure (a tool's non-zero exit rejects).
 */
export async function checkBag(zipPath: string, bagName: string): Promise<CheckedBag> {
  const out = await mkdtemp(join(tmpdir(), 'bag-'));
  let tools = (await run('unzip', ['-t', zipPath])).stdout;
  await run('unzip', ['-q', zipPath, '-d', out]);
  const dir = join(out, bagName);
  tools += (await run('sha256sum', ['--strict', '-c', 'manifest-sha256.txt'], { cwd: dir })).stdout;
  tools += (await run('md5sum', ['--strict', '-c', 'manifest-md5.txt'], { cwd: dir })).stdout;
  tools += (await run('sha256sum', ['--strict', '-c', 'tagmanifest-sha256.txt'], { cwd: dir })).stdout;
  const bagInfo: Record<string, string> = {};
  for (const line of (await readFile(join(dir, 'bag-info.txt'), 'utf8')).split('\n')) {
    const at = line.indexOf(': ');
    if (at > 0) bagInfo[line.slice(0, at)] = line.slice(at + 2);
  }
  const payload = (await walk(join(dir, 'data'))).map((p) => relative(dir, p));
  let bytes = 0;
  for (const p of payload) bytes += (await stat(join(dir, p))).size;
  const oxum = `${bytes}.${payload.length}`;
  if (bagInfo['Payload-Oxum'] !== oxum) {
    throw new Error(`Payload-Oxum ${bagInfo['Payload-Oxum']} but the payload holds ${oxum}`);
  }
  // Every payload file is in both manifests, and nothing else is (RFC 8493 §3: a complete bag).
  for (const m of ['manifest-sha256.txt', 'manifest-md5.txt']) {
    const listed = (await readFile(join(dir, m), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(l.indexOf('  ') + 2))
      .sort();
    if (JSON.stringify(listed) !== JSON.stringify([...payload].sort())) {
      throw new Error(`${m} lists ${listed.length} files, the payload holds ${payload.length}`);
    }
  }
  return { dir, bagInfo, payload, tools };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/**
 * The export worker's S3 and DynamoDB clients, their calls recorded as the deployed export role's
 * (test/infra/deployed-permissions.test.ts checks them against the synthesized policies).
 */
export function recordedExportWorkerClients(
  provided: { s3Endpoint: string; dynamodbEndpoint: string; region: string },
  names: { archiveBucket: string; exportsBucket: string; table: string },
): { s3: S3Client; ddb: DynamoDBDocumentClient } {
  const bindings: ResourceBindings = {
    buckets: { [names.archiveBucket]: 'archiveBucket', [names.exportsBucket]: 'exportsBucket' },
    tables: { [names.table]: 'indexTable' },
  };
  return {
    s3: recordCallsOf(
      createS3Client({ endpoint: provided.s3Endpoint, region: provided.region }),
      'exportWorker',
      bindings,
    ),
    ddb: recordCallsOf(
      createDocumentClient({ endpoint: provided.dynamodbEndpoint, region: provided.region }),
      'exportWorker',
      bindings,
    ),
  };
}
