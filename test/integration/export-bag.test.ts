import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureBucket, ensureTable } from '../../local/aws/resources.js';
import { S3ExportStorage } from '../../shared/archive/s3-export-storage.js';
import { newExportId, queuedExportJob } from '../../shared/contracts/exports.js';
import type { ExportJob, ExportScope } from '../../shared/contracts/exports.js';
import { DAT, LOAD_FILE_COLUMNS } from '../../shared/export/bag-files.js';
import { runExport } from '../../shared/export/export-run.js';
import type { ExportDeps, ExportSettings } from '../../shared/export/export-run.js';
import type { ExportStorage } from '../../shared/export/ports.js';
import { exportIndexDeps } from '../../lambdas/export/runtime.js';
import { DynamoDbExportJobs } from '../../shared/index/dynamodb-export-jobs.js';
import { DynamoDbHeldFiles, DynamoDbMatterStore } from '../../shared/index/dynamodb-holds.js';
import { DynamoDbFixityRecords } from '../../shared/index/dynamodb-fixity.js';
import { DynamoDbAccessTrail } from '../../shared/index/dynamodb-access-trail.js';
import type { Matter } from '../../shared/contracts/holds.js';
import type { FixityEvent } from '../../shared/contracts/fixity.js';
import type { TrailEvent } from '../../shared/lookup/access-trail.js';
import type { Log } from '../../shared/platform/telemetry.js';
import {
  checkBag,
  downloadObject,
  putRecord,
  recordedExportWorkerClients,
  seedArchived,
} from '../support/export-fixture.js';
import type { SeedFile } from '../support/export-fixture.js';
import { localAwsFromInject, uniqueName } from '../support/local-aws.js';
import type { LocalAwsFixture } from '../support/local-aws.js';

const CHAT = 'claude_chat_01ExportChat';
const OTHER_CHAT = 'claude_chat_01NotInScope';
const MiB = 1024 * 1024;

let aws: LocalAwsFixture;
let archiveBucket: string;
let exportsBucket: string;
let table: string;
let work: string;
const logs: string[] = [];
const log: Log = {
  debug: () => {},
  info: (m) => logs.push(m),
  warn: (m) => logs.push(m),
  error: (m) => logs.push(m),
};

/**
 * Names an auditor's tools trip on: a path, a percent sign, non-Latin text, a name too long to unpack as is,
 * duplicates.
 */
const files: SeedFile[] = [
  { fileId: 'claude_gen_file_01A', filename: 'report.pdf', content: randomBytes(9 * MiB + 123) },
  { fileId: 'claude_gen_file_01B', filename: '../../etc/passwd', content: Buffer.from('not a password file\n') },
  { fileId: 'claude_file_01C', filename: 'Résumé 100%.txt', content: Buffer.from('résumé\n') },
  { fileId: 'claude_file_01D', filename: `${'長'.repeat(200)}.docx`, content: randomBytes(3000) },
  { fileId: 'claude_gen_file_01E', filename: 'report.pdf', content: randomBytes(6 * MiB) },
  { fileId: 'claude_gen_file_01F', filename: 'empty.txt', content: Buffer.alloc(0) },
  {
    fileId: 'claude_gen_file_01G',
    filename: 'notes "draft", v2\nfinal þ.md',
    content: Buffer.from('# notes\n'),
    creator: null,
    createdAt: null,
  },
].map((f) => ({ ...f, chatIds: [CHAT], projectId: 'claude_proj_01Export' }));

const settings: ExportSettings = {
  partBytes: 5 * MiB,
  concurrency: 2,
  sourceOrganization: 'Example Corp (org_01Example)',
  checkpointEverySeconds: 3600,
};

/**
 * The worker's clients: each call is recorded as the export worker's and checked against its
 * deployed role's grants after every test (test/support/permission-setup.ts).
 */
let worker: { s3: S3Client; ddb: DynamoDBDocumentClient };

function deps(storage: ExportStorage = new S3ExportStorage(worker.s3, exportsBucket)): ExportDeps {
  return { ...exportIndexDeps(worker.ddb, table), storage, log };
}

async function createJob(scope: ExportScope): Promise<string> {
  const exportId = newExportId();
  const at = new Date().toISOString();
  const job: ExportJob = queuedExportJob(
    {
      exportId,
      scope,
      matterId: null,
      description: 'Matter 2025-17, first production',
      requestedBy: 'arn:aws:iam::123456789012:user/legal-admin',
    },
    at,
  );
  expect(await new DynamoDbExportJobs(aws.ddb, table).create(job)).toBe(true);
  return exportId;
}

async function fetchBag(exportId: string): Promise<{ zip: string; sha256: string }> {
  const job = await new DynamoDbExportJobs(aws.ddb, table).get(exportId);
  if (!job?.bag) throw new Error(`export ${exportId} has no bag (status ${job?.status}, error ${job?.error})`);
  const zip = join(work, `${exportId}.zip`);
  const bytes = await downloadObject(aws.s3, exportsBucket, job.bag.key, zip);
  expect(bytes.byteLength).toBe(job.bag.bytes);
  return { zip, sha256: createHash('sha256').update(bytes).digest('hex') };
}

beforeAll(async () => {
  aws = localAwsFromInject();
  archiveBucket = uniqueName('export-archive');
  exportsBucket = uniqueName('export-bags');
  table = uniqueName('export-index');
  work = await mkdtemp(join(tmpdir(), 'export-test-'));
  const provided = inject('localAws');
  worker = recordedExportWorkerClients(provided, { archiveBucket, exportsBucket, table });
  await ensureBucket(aws.s3, archiveBucket);
  await ensureBucket(aws.s3, exportsBucket);
  await ensureTable(aws.ddb, table);
  for (const f of files) await seedArchived(aws.s3, aws.ddb, archiveBucket, table, f);
  await seedArchived(aws.s3, aws.ddb, archiveBucket, table, {
    fileId: 'claude_gen_file_01Other',
    filename: 'other.txt',
    content: Buffer.from('other chat'),
    chatIds: [OTHER_CHAT],
  });
  await seedCustodyEvidence(files[0] as SeedFile);
  // In scope but not archived: counted and named in the report, not in the bag.
  await putRecord(aws.ddb, table, {
    status: 'pending',
    fileId: 'claude_file_01Pending',
    source: 'uploaded',
    chatIds: [CHAT],
    filename: 'later.txt',
    mimeType: null,
    sizeBytes: null,
    createdAt: null,
    upstreamRequestId: null,
    attempts: 1,
    lastError: 'upstream answered 503',
    lastUpstreamRequestId: null,
    firstSeenAt: '2025-06-02T09:00:00.000Z',
  });
});

const LEE = 'arn:aws:iam::123456789012:user/legal-admin-lee';
const AUDITOR = 'arn:aws:iam::123456789012:user/auditor-ann';
const DEEP_CHECK: FixityEvent = {
  eventType: 'fixity check',
  at: '2026-11-30T02:00:00.000Z',
  tier: 'deep',
  tool: 'node:crypto',
  toolVersion: '1',
  outcome: 'passed',
  detail: 'MD5 and SHA-256 of the stored bytes match the record',
  versionId: null,
};

function matter(matterId: string, status: Matter['status'], fileId: string): Matter {
  const at = new Date().toISOString();
  return {
    matterId,
    reason: `reason of ${matterId}`,
    scope: { fileIds: [fileId] },
    status,
    placedBy: LEE,
    placedAt: at,
    ...(status === 'released' ? { releasedBy: LEE, releasedAt: new Date(Date.now() + 1000).toISOString() } : {}),
    progress: { action: 'place', page: 1, sent: true, scanned: 1, matched: 1, changed: 1, done: true, startedAt: at },
  };
}

function trailEvent(at: string, fileId: string, principal: string, action: string, status: number): TrailEvent {
  return {
    at,
    eventId: `ev-${at}-${fileId}`,
    principal,
    action,
    scope: { fileId },
    fileId,
    status,
    sourceIp: '203.0.113.7',
    userAgent: 'archiver-cli/0.1',
    requestId: `req-${at}`,
  };
}

/**
 * What the chain of custody of `f` must show, written as the archiver writes it: an active matter whose
 * hold mark is on the record, a released matter whose scope covered it, a fixity check, and trail events
 * naming it (and one naming another file, which must not appear).
 */
async function seedCustodyEvidence(f: SeedFile): Promise<void> {
  const matters = new DynamoDbMatterStore(aws.ddb, table);
  expect(await matters.create(matter('M-active', 'active', f.fileId))).toBe(true);
  expect(await matters.create(matter('M-released', 'released', f.fileId))).toBe(true);
  const held = await new DynamoDbHeldFiles(aws.ddb, table).addHold(f.fileId, {
    matterId: 'M-active',
    placedBy: LEE,
    placedAt: '2026-12-01T10:00:00.000Z',
    reason: 'reason of M-active',
    via: 'matter',
  });
  expect(held?.record.legalHolds?.['M-active']).toBeDefined();
  expect(await new DynamoDbFixityRecords(aws.ddb, table).record(f.fileId, DEEP_CHECK)).toBeDefined();
  const trail = new DynamoDbAccessTrail(aws.ddb, table);
  await trail.record(trailEvent('2026-12-01T09:00:00.000Z', f.fileId, AUDITOR, 'GET /files/{fileId}', 200));
  await trail.record(trailEvent('2026-12-02T09:00:00.000Z', f.fileId, AUDITOR, 'GET /files/{fileId}/content', 302));
  await trail.record(trailEvent('2026-12-03T09:00:00.000Z', f.fileId, LEE, 'POST /files/{fileId}/verify', 403));
  await trail.record(trailEvent('2026-12-03T09:00:00.000Z', 'claude_file_01C', AUDITOR, 'GET /files/{fileId}', 200));
}

afterAll(async () => {
  worker.s3.destroy();
  worker.ddb.destroy();
  aws.destroy();
  await rm(work, { recursive: true, force: true });
});

describe('an export bag', () => {
  it(
    'is a valid BagIt bag in a ZIP that unzip, sha256sum and md5sum ' +
      'accept, with every file in scope and only those',
    async () => {
      const exportId = await createJob({ chats: [CHAT] });
      const outcome = await runExport(exportId, deps(), settings, Date.now() + 600_000, AbortSignal.timeout(120_000));
      expect(outcome.kind).toBe('completed');
      const { zip, sha256 } = await fetchBag(exportId);
      const job = await new DynamoDbExportJobs(aws.ddb, table).get(exportId);
      // The SHA-256 the API hands out is the SHA-256 of the bytes a download gets.
      expect(job?.bag?.sha256).toBe(sha256);
      expect(job?.counts).toEqual({
        matched: files.length + 1,
        exported: files.length,
        notArchived: 1,
        payloadBytes: files.reduce((n, f) => n + f.content.byteLength, 0),
      });

      const bag = await checkBag(zip, exportId);
      expect(bag.payload).toHaveLength(files.length);
      expect(await readFile(join(bag.dir, 'bagit.txt'), 'utf8')).toBe(
        'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n',
      );
      expect(bag.bagInfo['External-Identifier']).toBe(exportId);
      expect(bag.bagInfo['Source-Organization']).toBe(settings.sourceOrganization);
      expect(bag.bagInfo['Bagging-Date']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(JSON.parse(bag.bagInfo['Archiver-Scope'] ?? '')).toEqual({ chats: [CHAT] });

      // Each payload file holds exactly the archived bytes, under a safe, unique name.
      const natives = await readdir(join(bag.dir, 'data', 'natives'));
      for (const f of files) {
        const name = natives.find((n) => n.startsWith(`${f.fileId}_`));
        expect(name, f.fileId).toBeDefined();
        expect(Buffer.byteLength(name ?? '')).toBeLessThanOrEqual(200);
        expect(name).not.toMatch(/[/\\%\n]/);
        expect((await readFile(join(bag.dir, 'data', 'natives', name ?? ''))).equals(f.content)).toBe(true);
      }
      expect(natives.some((n) => n.includes('Other'))).toBe(false);

      // The load files: a row per exported file, the columns in order, the exact recorded values.
      const csv = await readFile(join(bag.dir, 'loadfile', 'export.csv'), 'utf8');
      expect(csv.split('\r\n')[0]).toBe(LOAD_FILE_COLUMNS.join(','));
      expect(csv).toContain('"notes ""draft"", v2\nfinal þ.md"');
      const dat = await readFile(join(bag.dir, 'loadfile', 'export.dat'), 'utf8');
      const datRows = dat
        .replace(/^\uFEFF/, '')
        .split('\r\n')
        .filter(Boolean);
      expect(datRows).toHaveLength(files.length + 1);
      for (const row of datRows) {
        const fields = row.split(DAT.separator);
        expect(fields).toHaveLength(LOAD_FILE_COLUMNS.length);
        for (const field of fields) expect(field).toMatch(/^\u00fe[^\u00fe]*\u00fe$/);
      }
      expect(dat).toContain(`notes "draft", v2${DAT.newline}final \uFFFD.md`);

      // The chain of custody: one JSON per file, and the page for the export naming the one left out.
      const big = files[0] as SeedFile;
      const custody = JSON.parse(await readFile(join(bag.dir, 'custody', `${big.fileId}.json`), 'utf8'));
      expect(custody).toMatchObject({
        exportId,
        fileId: big.fileId,
        upstream: { requestId: `req_${big.fileId.slice(-8)}` },
        archive: { bucket: archiveBucket, sha256: createHash('sha256').update(big.content).digest('hex') },
        export: { sha256: createHash('sha256').update(big.content).digest('hex'), matchesArchive: true },
      });
      // Legal holds: the matter whose mark is on the record (who placed it, when this version was held,
      // why), then the released matter whose scope covered the version (its placing and its release).
      expect(custody.holds).toEqual([
        {
          matterId: 'M-active',
          basis: 'record',
          heldNow: true,
          heldAt: '2026-12-01T10:00:00.000Z',
          heldVia: 'matter',
          heldBy: LEE,
          reason: 'reason of M-active',
          matterStatus: 'active',
          placedBy: LEE,
          placedAt: expect.any(String),
          releasedBy: null,
          releasedAt: null,
        },
        expect.objectContaining({
          matterId: 'M-released',
          basis: 'scope',
          heldNow: false,
          matterStatus: 'released',
          releasedBy: LEE,
          releasedAt: expect.any(String),
        }),
      ]);
      // Fixity: the PREMIS-style events recorded on the record.
      expect(custody.fixity).toMatchObject({ status: 'passed', checks: 1, events: [DEEP_CHECK] });
      // The access trail: every event naming this file, newest first, with who, what, when, the result,
      // where from and with what; none naming another file.
      expect(custody.accessTrail).toEqual({
        total: 3,
        included: 3,
        events: [
          expect.objectContaining({ at: '2026-12-03T09:00:00.000Z', principal: LEE, status: 403 }),
          expect.objectContaining({ at: '2026-12-02T09:00:00.000Z', action: 'GET /files/{fileId}/content' }),
          {
            at: '2026-12-01T09:00:00.000Z',
            principal: AUDITOR,
            action: 'GET /files/{fileId}',
            status: 200,
            errorType: null,
            sourceIp: '203.0.113.7',
            userAgent: 'archiver-cli/0.1',
            requestId: 'req-2026-12-01T09:00:00.000Z',
          },
        ],
      });
      // A file nothing held, checked or read says so with empty lists, not "not recorded".
      const plain = JSON.parse(await readFile(join(bag.dir, 'custody', 'claude_gen_file_01B.json'), 'utf8'));
      expect(plain).toMatchObject({ holds: [], fixity: { status: 'never checked', events: [] } });
      expect(plain.accessTrail).toEqual({ total: 0, included: 0, events: [] });
      const html = await readFile(join(bag.dir, 'custody', 'index.html'), 'utf8');
      expect(html).toContain('claude_file_01Pending');
      expect(html).not.toContain('<script');
      expect(html).toContain('notes &quot;draft&quot;');
      expect(html).not.toMatch(/not recorded|not read by this build/);
      expect(html).toMatch(/Sources of evidence: .*legal holds .*fixity events .*the access trail/);
    },
  );

  it('resumes after a run stops at its deadline: run after run, one file each, the same valid bag', async () => {
    const exportId = await createJob({ projects: ['claude_proj_01Export'] });
    let runs = 0;
    for (;;) {
      runs += 1;
      expect(runs).toBeLessThan(30);
      // A deadline already passed: each run writes one file, checkpoints (with its unfinished part) and stops.
      const outcome = await runExport(exportId, deps(), settings, 0, AbortSignal.timeout(120_000));
      if (outcome.kind === 'completed') break;
      expect(outcome.kind).toBe('continue');
    }
    expect(runs).toBe(files.length);
    expect(logs).toContain('export resumes from its checkpoint');
    const { zip, sha256 } = await fetchBag(exportId);
    expect((await new DynamoDbExportJobs(aws.ddb, table).get(exportId))?.bag?.sha256).toBe(sha256);
    const bag = await checkBag(zip, exportId);
    expect(bag.payload).toHaveLength(files.length);
  });

  it('resumes after a run fails mid-upload, re-sending the parts after its checkpoint', async () => {
    const exportId = await createJob({ chats: [CHAT] });
    const storage = new S3ExportStorage(aws.s3, exportsBucket);
    let failures = 0;
    // A fault S3 does not produce on demand: the third part of the first run is refused.
    const flaky: ExportStorage = Object.assign(Object.create(storage) as ExportStorage, {
      uploadPart: (key: string, uploadId: string, n: number, bytes: Uint8Array, signal: AbortSignal) => {
        if (n === 3 && failures === 0) {
          failures += 1;
          return Promise.reject(new Error('connection reset'));
        }
        return storage.uploadPart(key, uploadId, n, bytes, signal);
      },
    });
    // A checkpoint after every file, so that the failure comes after some.
    const often = { ...settings, checkpointEverySeconds: 0 };
    await expect(
      runExport(exportId, deps(flaky), often, Date.now() + 600_000, AbortSignal.timeout(120_000)),
    ).rejects.toThrow(/uploading the bag failed: .*connection reset/);
    const stopped = await new DynamoDbExportJobs(aws.ddb, table).get(exportId);
    expect(stopped?.status).toBe('running');
    // Files were checkpointed before the failure, and the next run does not export them again.
    expect(stopped?.counts.exported).toBeGreaterThan(0);
    const resumedBefore = logs.filter((m) => m === 'export resumes from its checkpoint').length;
    const outcome = await runExport(exportId, deps(flaky), often, Date.now() + 600_000, AbortSignal.timeout(120_000));
    expect(logs.filter((m) => m === 'export resumes from its checkpoint').length).toBe(resumedBefore + 1);
    expect(outcome.kind).toBe('completed');
    const job = await new DynamoDbExportJobs(aws.ddb, table).get(exportId);
    expect(job?.runs).toBe(2);
    const { zip, sha256 } = await fetchBag(exportId);
    expect(job?.bag?.sha256).toBe(sha256);
    await checkBag(zip, exportId);
  });

  it('sends a GetObject again when the one sent ahead of its file failed, and completes a valid bag', async () => {
    const exportId = await createJob({ chats: [CHAT] });
    const storage = new S3ExportStorage(worker.s3, exportsBucket);
    const reads = new Map<string, number>();
    // A fault S3 does not produce on demand: the first GetObject of each file but the first fails, as a
    // connection dropped while the request waited its turn would. Every file but the first is read ahead.
    const dropping: ExportStorage = Object.assign(Object.create(storage) as ExportStorage, {
      readArchived: (ref: { bucket: string; key: string; versionId: string | null }, signal: AbortSignal) => {
        const n = (reads.get(ref.key) ?? 0) + 1;
        reads.set(ref.key, n);
        const first = reads.size === 1;
        return n === 1 && !first ? Promise.reject(new Error('socket hang up')) : storage.readArchived(ref, signal);
      },
    });
    const outcome = await runExport(
      exportId,
      deps(dropping),
      settings,
      Date.now() + 600_000,
      AbortSignal.timeout(120_000),
    );
    expect(outcome.kind).toBe('completed');
    // Each file but the first was asked for twice: ahead (failed) and again in its turn.
    expect([...reads.values()].sort()).toEqual([1, ...Array(files.length - 1).fill(2)]);
    const { zip, sha256 } = await fetchBag(exportId);
    expect((await new DynamoDbExportJobs(aws.ddb, table).get(exportId))?.bag?.sha256).toBe(sha256);
    const bag = await checkBag(zip, exportId);
    expect(bag.payload).toHaveLength(files.length);
  });

  it('fails, saying which file, when an archived version no longer matches its record', async () => {
    const record = await seedArchived(aws.s3, aws.ddb, archiveBucket, table, {
      fileId: 'claude_gen_file_01Tampered',
      filename: 'tampered.txt',
      content: Buffer.from('original bytes'),
    });
    // The bucket of these tests keeps no versions: a new write replaces what the record describes.
    await aws.s3.send(
      new PutObjectCommand({ Bucket: archiveBucket, Key: record.key, Body: Buffer.from('altered bytes!') }),
    );
    const exportId = await createJob({ fileIds: [record.fileId] });
    const outcome = await runExport(exportId, deps(), settings, Date.now() + 600_000, AbortSignal.timeout(60_000));
    expect(outcome).toMatchObject({ kind: 'failed', error: expect.stringContaining('claude_gen_file_01Tampered') });
    const job = await new DynamoDbExportJobs(aws.ddb, table).get(exportId);
    expect(job).toMatchObject({ status: 'failed', bag: null });
    expect(job?.error).toMatch(/no longer match its record/);
  });
});
