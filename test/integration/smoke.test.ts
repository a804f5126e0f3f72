import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_CHATS } from '../../local/sample-data.js';
import { stackFilePath } from '../../shared/platform/local-stack-file.js';
import { fileItemKey } from '../../shared/contracts/table-keys.js';
import { createDocumentClient, createS3Client } from '../../shared/platform/aws-clients.js';
import { startLocalStackProcess, type LocalStackProcess } from '../support/local-stack-process.js';
import { runScript, type ScriptRun } from '../support/run-script.js';

/**
 * `npm run smoke` against the local stack: the real `npm start` process on its own data folder, and
 * the smoke script as the operator runs it (a child process, its output and exit code), reading the
 * stack file and using the local endpoints. Against a deployed stack only the endpoints differ.
 */
const SAMPLE_FILE = 'claude_gen_file_01SampleQ3Summary';

let dataDir: string;
let stack: LocalStackProcess;

type SmokeRun = ScriptRun;

function runSmoke(args: string[], dir = dataDir): Promise<SmokeRun> {
  return runScript('smoke/main.ts', args, { ...process.env, ARCHIVER_DATA_DIR: dir });
}

/** The step lines of a run: "PASS send job", "FAIL verify download", … */
function steps(run: SmokeRun): string[] {
  return [...run.output.matchAll(/^ {2}(PASS|FAIL) {2}(.+?) {2,}/gm)].map((m) => `${m[1]} ${(m[2] ?? '').trim()}`);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'archiver-smoke-'));
  // No ANTHROPIC_API_KEY: the stack serves its built-in sample upstream.
  stack = await startLocalStackProcess({ dataDir, env: { ANTHROPIC_API_KEY: '' }, timeoutMs: 90_000 });
}, 120_000);
afterAll(async () => {
  await stack?.stop('SIGTERM');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('npm run smoke against the local stack', () => {
  it('keeps the stack file, which holds the local webhook secret, readable by its owner only', async () => {
    const { mode } = await stat(stackFilePath(dataDir));
    expect(mode & 0o077).toBe(0);
  });

  it('archives a file the stack has not seen, checks its record, downloads it and re-verifies it', async () => {
    // The stack archives its samples at start: forget this one, so the smoke test's job does the work.
    const doc = createDocumentClient({ endpoint: stack.info.dynamodb.endpoint });
    const s3 = createS3Client({ endpoint: stack.info.s3.endpoint });
    const item = async () =>
      (
        await doc.send(
          new GetCommand({ TableName: stack.info.dynamodb.table, Key: fileItemKey(SAMPLE_FILE), ConsistentRead: true }),
        )
      ).Item;
    for (let i = 0; i < 200 && (await item())?.['status'] !== 'archived'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const key = String((await item())?.['key']);
    await doc.send(new DeleteCommand({ TableName: stack.info.dynamodb.table, Key: fileItemKey(SAMPLE_FILE) }));
    await s3.send(new DeleteObjectCommand({ Bucket: stack.info.s3.bucket, Key: key }));

    const run = await runSmoke(['--chat', SAMPLE_CHATS.quarterlyReview, '--timeout', '60']);

    expect(run.code, run.output).toBe(0);
    expect(steps(run)).toEqual([
      'PASS find the stack',
      'PASS send job',
      'PASS wait for record',
      'PASS record hashes',
      'PASS download',
      'PASS verify download',
    ]);
    expect(run.output).toContain(`local stack (${dataDir})`);
    expect(run.output).toMatch(/wait for record +archived at \S+, [\d.]+ s after the job was sent/);
    expect(run.output).toMatch(/smoke test PASSED\s*$/);
    // The smoke test archived it again: the record and the object are back.
    expect(await item()).toMatchObject({ status: 'archived', key });
  });

  it('fails at the re-verification when the stored bytes differ from the record', async () => {
    const record = (
      await createDocumentClient({ endpoint: stack.info.dynamodb.endpoint }).send(
        new GetCommand({ TableName: stack.info.dynamodb.table, Key: fileItemKey(SAMPLE_FILE), ConsistentRead: true }),
      )
    ).Item;
    // s3rver keeps no versions and has no Object Lock, so the local archive can be overwritten.
    await createS3Client({ endpoint: stack.info.s3.endpoint }).send(
      new PutObjectCommand({
        Bucket: stack.info.s3.bucket,
        Key: String(record?.['key']),
        Body: Buffer.from('tampered'),
      }),
    );
    // The previous test archived the file moments ago, and the smoke tool calls a record "archived
    // earlier" only when it predates the job by more than its 2 s clock allowance: wait that out.
    const archivedAt = Date.parse(String(record?.['archivedAt']));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, archivedAt + 2_500 - Date.now())));

    const run = await runSmoke(['--file-id', SAMPLE_FILE, '--timeout', '60']);

    expect(run.code, run.output).toBe(1);
    expect(steps(run).at(-1)).toBe('FAIL verify download');
    expect(run.output).toMatch(/archived earlier, at /);
    expect(run.output).toMatch(
      /do not match the record: only 8 bytes, record \d+; sha256 [0-9a-f]{64}, record [0-9a-f]{64}/,
    );
    expect(run.output).toMatch(/smoke test FAILED\s*$/);
  });

  it('fails at the record when upstream has no such file, with the reason and request id', async () => {
    const run = await runSmoke(['--file-id', 'claude_gen_file_01NotUpstream', '--timeout', '60']);
    expect(run.code, run.output).toBe(1);
    expect(steps(run)).toEqual(['PASS find the stack', 'PASS send job', 'FAIL wait for record']);
    expect(run.output).toMatch(/status unavailable, reason "not_found".*upstreamRequestId "req_/);
  });

  it('fails, saying how to start one, when no local stack is running', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'archiver-smoke-none-'));
    try {
      const run = await runSmoke([], empty);
      expect(run.code).toBe(1);
      expect(steps(run)).toEqual(['FAIL find the stack']);
      expect(run.output).toContain('npm start');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('refuses bad arguments with the usage and exit code 2', async () => {
    const run = await runSmoke(['--timeout', 'soon']);
    expect(run.code).toBe(2);
    expect(run.output).toContain('usage: npm run smoke');
  });
});
