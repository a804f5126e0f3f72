/**
 * The auditor's walkthrough (issue 15, "Done when"), end to end against `npm start` on the gateway tier
 * (ARCHIVER_S3=rgw: S3 is Ceph's RADOS Gateway with versioning and Object Lock, as the archive is
 * deployed). The stack is local/start.ts itself, run as a child process; its pollers discover the
 * built-in sample upstream's files and archive them; every auditor step is the real `archiver` CLI
 * (a child process reading the stack file), and what is checked on the gateway is checked with plain
 * S3 calls, as an auditor with S3 access would. The steps run in order and build on each other:
 * find a person's files in a period, hold them, see the hold on the gateway, run both fixity tiers,
 * damage an object behind the archiver's back and see it flagged, export the held files and
 * validate the bag with coreutils, download a held file, and read the auditor's own actions in the
 * trail. Runs only where radosgw is installed (vitest.config.ts lists it with the real-S3 tier).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARCHIVE_RETENTION } from '../../shared/contracts/archive-retention.js';
import { createS3Client } from '../../shared/platform/aws-clients.js';
import { LOCAL_CALLER_HEADER } from '../../local/lookup-server.js';
import { type CliRun, runCli } from '../support/cli-stack.js';
import { checkBag } from '../support/export-fixture.js';
import { startLocalStackProcess, type LocalStackProcess } from '../support/local-stack-process.js';

/** The auditor: `npm start` records every CLI request under `local:$USER`. */
const AUDITOR_USER = 'ines.walkthrough';
const AUDITOR = `local:${AUDITOR_USER}`;
/** The person under investigation: the sample upstream's user, as upstream spells their address. */
const PERSON = '01localsampleuser@example.com';
/** The period: 2-3 June 2025 (search's --to is a whole day; a hold's --to is an exclusive instant). */
const PERIOD = {
  from: '2025-06-02',
  to: '2025-06-03',
  holdFrom: '2025-06-02T00:00:00Z',
  holdTo: '2025-06-04T00:00:00Z',
};
/**
 * That person's files created upstream in that period (local/sample-data.ts): the two uploads to
 * their chats. Their generated files publish no creation time, so no period search can find them.
 */
const PERSONS_FILES_IN_PERIOD = ['claude_file_01SampleBoardDeckNotes', 'claude_file_01SampleRawDataCsv'].sort();
/** Someone else's file (the pilot lead's project document), outside the matter: the one damaged. */
const UNHELD_FILE = 'claude_proj_doc_01SamplePilotNotes';
const MATTER = 'LH-WALK-2026-1';

interface RecordJson {
  fileId: string;
  status: string;
  bucket: string;
  key: string;
  versionId: string | null;
  sizeBytes: number;
  sha256: string;
  creator?: { emailAddress?: string | null } | null;
  legalHolds?: Record<string, { reason: string; placedBy: string }>;
  fixity?: { status: string; lastTier?: string };
}

let stack: LocalStackProcess;
let dataDir: string;
let work: string;
let s3: S3Client;
const startedAt = Date.now();

/** Runs `archiver <args>` against the stack; a failing step's message carries the CLI's own output. */
async function archiver(args: string[]): Promise<CliRun> {
  return runCli(args, { ...process.env, ARCHIVER_DATA_DIR: dataDir });
}

function describeRun(args: string[], run: CliRun): string {
  return `archiver ${args.join(' ')} exited ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
}

async function archiverJson<T>(args: string[], expectedCode = 0): Promise<T> {
  const run = await archiver([...args, '--json']);
  expect(run.code, describeRun(args, run)).toBe(expectedCode);
  return JSON.parse(run.stdout) as T;
}

const lookupRecord = (fileId: string) => archiverJson<RecordJson>(['lookup', '--file', fileId]);

/**
 * Waits until discovery has found and archived `fileIds`, reading the lookup API as a harness
 * (its own caller name, so the auditor's trail holds only the auditor's requests).
 */
async function waitUntilArchived(fileIds: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(fileIds);
  while (pending.size > 0) {
    for (const fileId of [...pending]) {
      const res = await fetch(`${stack.info.lookupUrl}/files/${fileId}`, {
        headers: { [LOCAL_CALLER_HEADER]: 'local:walkthrough-harness' },
      });
      const body = (await res.json()) as { status?: string };
      if (res.status === 200 && body.status === 'archived') pending.delete(fileId);
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `discovery did not archive ${[...pending].join(', ')} within ${timeoutMs / 1000} s\n` +
          stack.output().slice(-4000),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'archiver-walkthrough-'));
  work = await mkdtemp(join(tmpdir(), 'archiver-walkthrough-work-'));
  stack = await startLocalStackProcess({
    dataDir,
    env: { ARCHIVER_S3: 'rgw', USER: AUDITOR_USER },
    // As a shell starts a foreground job: the end of the walkthrough presses Ctrl-C.
    ownGroup: true,
    // The gateway's cluster takes 7-20 s to start on a loaded machine.
    timeoutMs: 120_000,
  });
  expect(stack.info.s3.server).toBe('rgw');
  expect(stack.output()).toContain('EMPTIED AT EACH START');
  expect(await cephDaemonsOf(dataDir), 'the monitor, the OSD and the gateway run').toHaveLength(3);
  s3 = createS3Client({ endpoint: stack.info.s3.endpoint, region: stack.info.region });
  await waitUntilArchived([...PERSONS_FILES_IN_PERIOD, UNHELD_FILE], 120_000);
}, 240_000);

afterAll(async () => {
  s3?.destroy();
  try {
    if (stack) await expectCtrlCStopsTheGateway();
    console.log(`auditor walkthrough: ${((Date.now() - startedAt) / 1000).toFixed(1)} s from npm start to stop`);
  } finally {
    await stack?.kill();
    await rm(dataDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
}, 120_000);

/**
 * A terminal's Ctrl-C (SIGINT to the whole foreground group) stops the stack cleanly, exit 0, and the
 * stack stops the gateway's daemons itself (they run in their own process group, like s3rver).
 */
async function expectCtrlCStopsTheGateway(): Promise<void> {
  const code = await stack.stopGroup('SIGINT');
  expect(code, stack.output().slice(-3000)).toBe(0);
  expect(stack.output()).toContain("stopped; the gateway's archive is gone with it");
  expect(await cephDaemonsOf(dataDir), 'no Ceph daemon of this stack is left running').toEqual([]);
  await expect(fetch(`${stack.info.s3.endpoint}/`), 'the gateway no longer answers').rejects.toThrow();
}

/** Processes whose CEPH_CONF points into `dir` (Linux /proc): the daemons of that stack's cluster. */
async function cephDaemonsOf(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    const conf = environ.split('\0').find((v) => v.startsWith('CEPH_CONF='));
    if (conf?.startsWith(`CEPH_CONF=${dir}/`)) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
      found.push(`${pid} ${cmdline.split('\0').join(' ').trim()}`);
    }
  }
  return found;
}

describe('the auditor walkthrough against npm start on the RADOS gateway', () => {
  it('1. search finds exactly that person’s files created in the period', async () => {
    const args = ['search', '--creator', PERSON, '--from', PERIOD.from, '--to', PERIOD.to];
    const found = await archiverJson<{ accessPattern: string; files: RecordJson[]; more: boolean }>(args);
    expect(found.more).toBe(false);
    expect(found.files.map((f) => f.fileId).sort(), 'the person’s files in the period').toEqual(
      PERSONS_FILES_IN_PERIOD,
    );
    for (const f of found.files) {
      expect(f.status, `${f.fileId} is archived`).toBe('archived');
      expect(f.creator?.emailAddress, `${f.fileId} was created by the person`).toBe(PERSON);
    }
  });

  it('2. a hold on that scope records the matter on each file and sets an S3 legal hold on its version', async () => {
    const matter = await archiverJson<{ status: string; progress: Record<string, unknown> }>([
      'hold',
      'place',
      '--matter',
      MATTER,
      '--reason',
      'Doe v. Example: preserve the custodian’s June files',
      '--user',
      PERSON,
      '--from',
      PERIOD.holdFrom,
      '--to',
      PERIOD.holdTo,
      '--wait',
    ]);
    expect(matter.status).toBe('active');
    expect(matter.progress, 'the sweep held every version in scope').toMatchObject({
      action: 'place',
      done: true,
      matched: PERSONS_FILES_IN_PERIOD.length,
      changed: PERSONS_FILES_IN_PERIOD.length,
    });
    for (const fileId of PERSONS_FILES_IN_PERIOD) {
      const record = await lookupRecord(fileId);
      expect(Object.keys(record.legalHolds ?? {}), `${fileId}'s record names the matter`).toEqual([MATTER]);
      expect(record.legalHolds?.[MATTER]?.placedBy).toBe(AUDITOR);
      expect(record.versionId, `${fileId} has an S3 version`).toBeTruthy();
      const version = { Bucket: record.bucket, Key: record.key, VersionId: record.versionId ?? undefined };
      // https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLegalHold.html
      const hold = await s3.send(new GetObjectLegalHoldCommand(version));
      expect(hold.LegalHold?.Status, `the gateway holds ${fileId}'s version`).toBe('ON');
      // The bucket's default retention (as deployed) also applies to the version.
      const retention = await s3.send(new GetObjectRetentionCommand(version));
      expect(retention.Retention?.Mode).toBe(DEFAULT_ARCHIVE_RETENTION.mode);
      // A legal hold blocks deletion of the version even for a caller allowed to bypass GOVERNANCE
      // retention: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-legal-holds
      await expect(
        s3.send(new DeleteObjectCommand({ ...version, BypassGovernanceRetention: true })),
        `deleting held ${fileId} with governance bypass is refused`,
      ).rejects.toMatchObject({ name: 'AccessDenied' });
      const still = await s3.send(new HeadObjectCommand(version));
      expect(still.VersionId).toBe(record.versionId);
    }
  });

  it('3. both fixity tiers pass on the person’s files and are recorded on their records', async () => {
    for (const tier of ['cheap', 'deep'] as const) {
      const result = await archiverJson<{
        tier: string;
        checked: number;
        failed: number;
        checks: { fileId: string }[];
      }>(['verify', '--user', PERSON, '--since', PERIOD.from, '--tier', tier]);
      expect(result.tier).toBe(tier);
      expect(result.failed, `${tier} tier: no failure`).toBe(0);
      expect(result.checks.map((c) => c.fileId)).toEqual(expect.arrayContaining(PERSONS_FILES_IN_PERIOD));
    }
    for (const fileId of PERSONS_FILES_IN_PERIOD) {
      expect((await lookupRecord(fileId)).fixity, `${fileId}'s last check`).toMatchObject({
        status: 'passed',
        lastTier: 'deep',
      });
    }
  });

  it('4. a version deleted behind the archiver’s back is flagged failed by the cheap tier', async () => {
    const record = await lookupRecord(UNHELD_FILE);
    expect(record.legalHolds ?? {}, 'the damaged file is outside the matter').toEqual({});
    const version = { Bucket: record.bucket, Key: record.key, VersionId: record.versionId ?? undefined };
    // The default GOVERNANCE retention refuses a plain delete of the version...
    await expect(s3.send(new DeleteObjectCommand(version))).rejects.toMatchObject({ name: 'AccessDenied' });
    // ...and a caller allowed to bypass it (as the gateway's bucket owner is) can remove it: the damage.
    await s3.send(new DeleteObjectCommand({ ...version, BypassGovernanceRetention: true }));

    const args = ['verify', '--file', UNHELD_FILE, '--tier', 'cheap', '--json'];
    const run = await archiver(args);
    expect(run.code, `verify exits 3 on a failed check\n${describeRun(args, run)}`).toBe(3);
    const result = JSON.parse(run.stdout) as {
      failed: number;
      checks: { event: { outcome: string; detail: string } }[];
    };
    expect(result.failed).toBe(1);
    expect(result.checks[0]?.event).toMatchObject({
      outcome: 'failed',
      detail: expect.stringMatching(/^the archived version is missing/),
    });
    expect((await lookupRecord(UNHELD_FILE)).fixity, 'lookup shows the failed check').toMatchObject({
      status: 'failed',
      lastTier: 'cheap',
    });
    const failed = await archiverJson<{ files: RecordJson[]; more: boolean }>(['search', '--fixity', 'failed']);
    expect(
      failed.files.map((f) => f.fileId),
      'search --fixity failed lists the damaged file alone',
    ).toEqual([UNHELD_FILE]);
  });

  it('5. an export of the matter is a bag that unzip, sha256sum and md5sum validate', async () => {
    const bagPath = join(work, 'matter.zip');
    const job = await archiverJson<{
      exportId: string;
      status: string;
      counts: { exported: number; matched: number };
      downloaded: { verified: boolean; path: string };
    }>(['export', '--matter', MATTER, '--description', MATTER, '--download', bagPath]);
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({
      matched: PERSONS_FILES_IN_PERIOD.length,
      exported: PERSONS_FILES_IN_PERIOD.length,
    });
    expect(job.downloaded, 'the CLI checked the download against the SHA-256 the API reported').toMatchObject({
      verified: true,
      path: bagPath,
    });
    // unzip -t, sha256sum -c and md5sum -c on the payload, sha256sum -c on the tag manifest, Payload-Oxum.
    const bag = await checkBag(bagPath, job.exportId);
    expect(bag.bagInfo['External-Identifier']).toBe(job.exportId);
    expect(bag.bagInfo['Archiver-Matter'], 'bag-info names the matter exported').toBe(MATTER);
    expect(bag.payload).toHaveLength(PERSONS_FILES_IN_PERIOD.length);
    const loadFile = await readFile(join(bag.dir, 'loadfile', 'export.csv'), 'utf8');
    for (const fileId of PERSONS_FILES_IN_PERIOD) {
      expect(loadFile, `the load file lists ${fileId}`).toContain(fileId);
      const record = await lookupRecord(fileId);
      expect(loadFile, `the load file carries ${fileId}'s archived version`).toContain(record.versionId as string);
    }
  });

  it('6. a held file downloads through the API and matches its archived hashes', async () => {
    const [fileId] = PERSONS_FILES_IN_PERIOD;
    const out = join(work, 'held-file');
    const result = await archiverJson<{ verified: boolean; sha256: string }>([
      'download',
      fileId as string,
      '--output',
      out,
    ]);
    expect(result.verified).toBe(true);
    expect(result.sha256).toBe((await lookupRecord(fileId as string)).sha256);
  });

  it('7. the trail shows this auditor’s own actions: search, hold, verify, export, download', async () => {
    const trail = await archiverJson<{
      events: { principal: string; action: string; status: number }[];
      more: boolean;
    }>(['audit', '--principal', AUDITOR]);
    expect(trail.more, 'the CLI read the whole trail (every fixity check is one event)').toBe(false);
    expect(new Set(trail.events.map((e) => e.principal))).toEqual(new Set([AUDITOR]));
    const actions = new Set(trail.events.map((e) => `${e.action} ${e.status}`));
    for (const expected of [
      'GET /search/files 200',
      'POST /holds 202',
      'GET /holds/{matterId} 200',
      'GET /files/{fileId} 200',
      'POST /files/{fileId}/verify 200',
      'POST /exports 202',
      'GET /exports/{exportId} 200',
      'GET /files/{fileId}/content 302',
    ]) {
      expect([...actions], `the trail records ${expected}`).toContain(expected);
    }
  });
});
