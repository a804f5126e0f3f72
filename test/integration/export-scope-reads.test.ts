import { readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exportIndexDeps } from '../../lambdas/export/runtime.js';
import { ensureBucket, ensureTable } from '../../local/aws/resources.js';
import { S3ExportStorage } from '../../shared/archive/s3-export-storage.js';
import { newExportId, queuedExportJob } from '../../shared/contracts/exports.js';
import type { ExportJob, ExportScope } from '../../shared/contracts/exports.js';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import type { Matter } from '../../shared/contracts/holds.js';
import { runExport } from '../../shared/export/export-run.js';
import type { ExportSettings } from '../../shared/export/export-run.js';
import { DynamoDbExportJobs, DynamoDbScopeReader } from '../../shared/index/dynamodb-export-jobs.js';
import { DynamoDbMatterStore } from '../../shared/index/dynamodb-holds.js';
import type { Log } from '../../shared/platform/telemetry.js';
import {
  checkBag,
  downloadObject,
  putRecord,
  recordedExportWorkerClients,
  seedArchived,
} from '../support/export-fixture.js';
import { localAwsFromInject, uniqueName } from '../support/local-aws.js';
import type { LocalAwsFixture } from '../support/local-aws.js';

/**
 * An export scoped to one person (or a quarter) reads that person's files through the search indexes
 * (shared/export/candidate-reads.ts), not the index table: on a table of many people's files the
 * reads return about as many items as the person has, the bag holds exactly their files, and the
 * worker's calls (Queries of the creator, creator-email and month indexes) are checked against its
 * deployed role's grants after each test (test/support/permission-setup.ts).
 */
let aws: LocalAwsFixture;
let archiveBucket: string;
let exportsBucket: string;
let table: string;
let work: string;
let worker: { s3: S3Client; ddb: DynamoDBDocumentClient };
const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const settings: ExportSettings = {
  partBytes: 5 * 1024 * 1024,
  concurrency: 2,
  sourceOrganization: 'Example Corp (org_01Example)',
  checkpointEverySeconds: 3600,
};

const ALICE = { id: 'user_01Alice', emailAddress: 'Alice@Example.com' };
/** Alice's files: two in the first quarter of 2026, one after it, one in 2025 (file id order differs). */
const ALICE_FILES = [
  { fileId: 'claude_file_01AliceD', createdAt: '2026-03-31T23:59:59.999Z' },
  { fileId: 'claude_file_01AliceA', createdAt: '2026-01-15T10:00:00.000Z' },
  { fileId: 'claude_file_01AliceC', createdAt: '2026-04-01T00:00:00.000Z' },
  { fileId: 'claude_file_01AliceB', createdAt: '2025-11-02T08:00:00.000Z' },
];
const Q1 = { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' };
const IN_Q1 = ['claude_file_01AliceA', 'claude_file_01AliceD'];
/** A project holding Alice's first-quarter files. */
const PROJECT = 'claude_proj_01AliceQ1';
const OTHER_USERS = 30;
const FILES_PER_OTHER_USER = 8;

beforeAll(async () => {
  aws = localAwsFromInject();
  archiveBucket = uniqueName('scope-archive');
  exportsBucket = uniqueName('scope-bags');
  table = uniqueName('scope-index');
  work = await mkdtemp(join(tmpdir(), 'export-scope-'));
  const provided = inject('localAws');
  worker = recordedExportWorkerClients(provided, { archiveBucket, exportsBucket, table });
  await ensureBucket(aws.s3, archiveBucket);
  await ensureBucket(aws.s3, exportsBucket);
  await ensureTable(aws.ddb, table);
  for (const f of ALICE_FILES) {
    await seedArchived(aws.s3, aws.ddb, archiveBucket, table, {
      fileId: f.fileId,
      filename: `${f.fileId}.txt`,
      content: Buffer.from(`file ${f.fileId}\n`),
      createdAt: f.createdAt,
      creator: ALICE,
      chatIds: ['claude_chat_01Alice'],
      projectId: IN_Q1.includes(f.fileId) ? PROJECT : null,
    });
  }
  // Everyone else's files, all in 2025: records only (no export must reach their bytes).
  const others: Promise<void>[] = [];
  for (let u = 0; u < OTHER_USERS; u++) {
    for (let n = 0; n < FILES_PER_OTHER_USER; n++) {
      others.push(putRecord(aws.ddb, table, otherFile(u, n)));
    }
  }
  await Promise.all(others);
}, 120_000);

afterAll(async () => {
  worker.s3.destroy();
  worker.ddb.destroy();
  aws.destroy();
  await rm(work, { recursive: true, force: true });
});

function otherFile(u: number, n: number): ArchivedRecord {
  const fileId = `claude_file_01U${String(u).padStart(2, '0')}N${n}`;
  return {
    status: 'archived',
    fileId,
    source: 'uploaded',
    chatIds: [`claude_chat_01U${u}`],
    filename: `${fileId}.txt`,
    mimeType: 'text/plain',
    sizeBytes: 1,
    createdAt: `2025-${String((n % 12) + 1).padStart(2, '0')}-10T00:00:00.000Z`,
    upstreamRequestId: null,
    md5: '0'.repeat(32),
    sha256: '0'.repeat(64),
    bucket: archiveBucket,
    key: `archive/uploaded/${fileId}`,
    versionId: null,
    contentType: 'text/plain',
    contentDisposition: 'attachment',
    archivedAt: '2025-12-01T00:00:00.000Z',
    creator: { id: `user_01Other${u}`, emailAddress: `other${u}@example.com` },
    projectId: null,
  };
}

/** Runs an export to its end with a scope reader of its own, whose count of items read is returned. */
async function exportOf(
  scope: ExportScope | null,
  matterId: string | null = null,
): Promise<{ itemsRead: number; natives: string[]; rows: string[] }> {
  const exportId = newExportId();
  const at = new Date().toISOString();
  const job: ExportJob = queuedExportJob(
    {
      exportId,
      scope,
      matterId,
      description: 'scope reads',
      requestedBy: 'arn:aws:iam::123456789012:user/legal-admin',
    },
    at,
  );
  expect(await new DynamoDbExportJobs(aws.ddb, table).create(job)).toBe(true);
  const reader = new DynamoDbScopeReader(worker.ddb, table);
  const deps = {
    ...exportIndexDeps(worker.ddb, table),
    scope: reader,
    storage: new S3ExportStorage(worker.s3, exportsBucket),
    log,
  };
  const outcome = await runExport(exportId, deps, settings, Date.now() + 600_000, AbortSignal.timeout(120_000));
  expect(outcome.kind).toBe('completed');
  const done = await new DynamoDbExportJobs(aws.ddb, table).get(exportId);
  if (!done?.bag) throw new Error(`export ${exportId} has no bag (${done?.status}: ${done?.error})`);
  const zip = join(work, `${exportId}.zip`);
  await downloadObject(aws.s3, exportsBucket, done.bag.key, zip);
  const bag = await checkBag(zip, exportId);
  // data/natives/<fileId>_<name>; these file ids have no `_` after `claude_file_`.
  const natives = bag.payload.map((p) => /^data\/natives\/(claude_file_[^_]+)_/.exec(p)?.[1] ?? p).sort();
  const csv = await readFile(join(bag.dir, 'loadfile', 'export.csv'), 'utf8');
  const rows = csv
    .split('\r\n')
    .slice(1)
    .filter(Boolean)
    .map((row) => row.split(',')[0] as string);
  return { itemsRead: reader.itemsRead, natives, rows };
}

const TABLE_FILES = ALICE_FILES.length + OTHER_USERS * FILES_PER_OTHER_USER;

describe('an export scoped to one person', () => {
  it('reads her files through the creator indexes, not the table; bags exactly them, by file id', async () => {
    const { itemsRead, natives, rows } = await exportOf({ users: [ALICE.id] });
    const hers = ALICE_FILES.map((f) => f.fileId).sort();
    expect(natives).toEqual(hers);
    // The load file (the bag's order) is in file id order, not the order the index gave them.
    expect(rows).toEqual(hers);
    // The creator index gives her 4 files; the creator-email index (the same reference, lowercased) none.
    expect(itemsRead).toBe(ALICE_FILES.length);
    expect(TABLE_FILES).toBeGreaterThan(50 * itemsRead);
  });

  it('by her email address in any case, within a quarter: the creator-email index within the window', async () => {
    const { itemsRead, natives } = await exportOf({ users: ['ALICE@example.COM'], ...Q1 });
    expect(natives).toEqual(IN_Q1);
    // Only the items the window's key condition returns (the quarter's end is exclusive: one more, filtered).
    expect(itemsRead).toBeLessThanOrEqual(IN_Q1.length + 1);
  });

  it('a quarter alone reads the month index partitions of the quarter, not the other years', async () => {
    const { itemsRead, natives } = await exportOf(Q1);
    expect(natives).toEqual(IN_Q1);
    expect(itemsRead).toBeLessThanOrEqual(IN_Q1.length + 1);
  });

  it('a project reads the project index partition', async () => {
    const { itemsRead, natives } = await exportOf({ projects: [PROJECT] });
    expect(natives).toEqual(IN_Q1);
    expect(itemsRead).toBe(IN_Q1.length);
  });

  it('a matter naming her reads her partitions whole (the hold rules), and a Scan reads the whole table', async () => {
    const at = new Date().toISOString();
    const matter: Matter = {
      matterId: 'M-alice',
      reason: 'Alice, Q1',
      scope: { users: ['alice@example.com'], from: '2026-01-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' },
      status: 'active',
      placedBy: 'arn:aws:iam::123456789012:user/legal-admin',
      placedAt: at,
      progress: { action: 'place', page: 1, sent: true, scanned: 0, matched: 0, changed: 0, done: true, startedAt: at },
    };
    expect(await new DynamoDbMatterStore(aws.ddb, table).create(matter)).toBe(true);
    const byMatter = await exportOf(null, matter.matterId);
    expect(byMatter.natives).toEqual(IN_Q1);
    expect(byMatter.itemsRead).toBe(ALICE_FILES.length);

    // The same reader asked for every file item reads them all (and every other item of the table).
    const reader = new DynamoDbScopeReader(worker.ddb, table);
    let files = 0;
    for await (const _ of reader.candidates({ reads: [{ kind: 'scan' }], order: 'fileId' })) files++;
    expect(files).toBe(TABLE_FILES);
    expect(reader.itemsRead).toBeGreaterThanOrEqual(TABLE_FILES);
  });
});
