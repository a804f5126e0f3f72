import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExportClients, createExportRuntime } from '../../lambdas/export/runtime.js';
import { createLookupClients, createLookupRuntime } from '../../lambdas/lookup/runtime.js';
import { recordCallsOf, type ResourceBindings } from '../support/permissions/aws-call-recorder.js';
import { LOCAL_CALLER_HEADER, startLookupServer } from '../../local/lookup-server.js';
import { ensureBucket, ensureQueues, ensureTable } from '../../local/aws/resources.js';
import { startSqsEventSource } from '../../local/sqs-event-source.js';
import type { SqsEventSource } from '../../local/sqs-event-source.js';
import { ExportConfigSchema, LookupConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { runCli } from '../support/cli-stack.js';
import { checkBag, seedArchived } from '../support/export-fixture.js';
import { localAwsFromInject, uniqueName } from '../support/local-aws.js';
import type { LocalAwsFixture } from '../support/local-aws.js';

// The export routes as a legal admin calls them (the local lookup server running the deployed
// handler), the export worker on its SQS queue (fauxqs), and `archiver export` as a child process.
const CHAT = 'claude_chat_01ExportApiChat';
const MATTER_CHAT = 'claude_chat_01ExportApiMatterChat';
const MATTER = 'M-2026-custody';
const MATTER_USER = { id: 'user_01MatterCustodian', emailAddress: 'custodian@example.com' };
const LEGAL_ADMIN = 'arn:aws:iam::123456789012:user/legal-admin-lee';

let aws: LocalAwsFixture;
let server: { url: string; close(): Promise<void> };
let worker: SqsEventSource;
let work: string;
const quiet: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const contents = [Buffer.from('first file\n'), Buffer.from('second file, a little longer\n')];

async function call(method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await request(`${server.url}${path}`, {
    method,
    headers: {
      [LOCAL_CALLER_HEADER]: LEGAL_ADMIN,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

async function waitForExport(exportId: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await call('GET', `/exports/${exportId}`);
    if (res.json.status === 'completed' || res.json.status === 'failed') return res;
    if (Date.now() > deadline) throw new Error(`export ${exportId} still ${res.json.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  aws = localAwsFromInject();
  work = await mkdtemp(join(tmpdir(), 'export-api-'));
  const archiveBucket = uniqueName('exp-api-archive');
  const exportsBucket = uniqueName('exp-api-bags');
  const table = uniqueName('exp-api-index');
  await ensureBucket(aws.s3, archiveBucket);
  await ensureBucket(aws.s3, exportsBucket);
  await ensureTable(aws.ddb, table);
  const queues = await ensureQueues(aws.sqs, {
    name: uniqueName('exp-api-queue'),
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 60,
  });
  // The lookup function's hold sweeps go to the ingest queue (unused here, but the lookup needs one).
  const holdQueues = await ensureQueues(aws.sqs, {
    name: uniqueName('exp-api-hold'),
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 60,
  });
  for (const [i, content] of contents.entries()) {
    await seedArchived(aws.s3, aws.ddb, archiveBucket, table, {
      fileId: `claude_gen_file_01Api${i}`,
      filename: `file ${i}.txt`,
      content,
      chatIds: [CHAT],
    });
  }
  // Beside the two files of CHAT: one the matter's custodian created, one by someone else (both in MATTER_CHAT).
  await seedArchived(aws.s3, aws.ddb, archiveBucket, table, {
    fileId: 'claude_gen_file_01ApiCustodian',
    filename: 'custodian.txt',
    content: Buffer.from('the custodian wrote this\n'),
    chatIds: [MATTER_CHAT],
    creator: MATTER_USER,
  });
  await seedArchived(aws.s3, aws.ddb, archiveBucket, table, {
    fileId: 'claude_gen_file_01ApiBystander',
    filename: 'bystander.txt',
    content: Buffer.from('not in the matter\n'),
    chatIds: [MATTER_CHAT],
    creator: { id: 'user_01Bystander', emailAddress: 'bystander@example.com' },
  });
  const common = {
    INDEX_TABLE: table,
    EXPORTS_BUCKET: exportsBucket,
    EXPORT_QUEUE_URL: queues.queueUrl,
    LOCAL_S3_ENDPOINT: aws.s3Endpoint,
    LOCAL_DYNAMODB_ENDPOINT: aws.dynamodbEndpoint,
    LOCAL_SQS_ENDPOINT: aws.sqsEndpoint,
  };
  // Every call of the lookup and the worker is checked against their deployed roles' grants
  // (test/support/permission-setup.ts): the calls the export routes and runs make are allowed.
  const bindings: ResourceBindings = {
    buckets: { [archiveBucket]: 'archiveBucket', [exportsBucket]: 'exportsBucket' },
    tables: { [table]: 'indexTable' },
    queues: {
      [queues.queueUrl.split('/').pop() as string]: 'exportQueue',
      [holdQueues.queueUrl.split('/').pop() as string]: 'ingestQueue',
    },
  };
  const lookupConfig = loadConfig(LookupConfigSchema, {
    ...common,
    ARCHIVE_BUCKET: archiveBucket,
    HOLD_WORK_QUEUE_URL: holdQueues.queueUrl,
  });
  const lookupClients = createLookupClients(lookupConfig, {
    onClient: (client) => recordCallsOf(client, 'lookup', bindings),
  });
  const lookup = createLookupRuntime(lookupConfig, quiet, lookupClients);
  server = await startLookupServer(lookup, { log: quiet });
  const exportConfig = loadConfig(ExportConfigSchema, { ...common, MAX_RECEIVE_COUNT: '3' });
  const exportClients = createExportClients(exportConfig);
  for (const client of Object.values(exportClients)) recordCallsOf(client, 'exportWorker', bindings);
  const runtime = createExportRuntime(exportConfig, quiet, exportClients);
  worker = startSqsEventSource({
    sqs: aws.sqs,
    queueUrl: queues.queueUrl,
    handler: runtime,
    batchSize: 1,
    functionTimeoutSeconds: 300,
  });
});

afterAll(async () => {
  await worker?.stop();
  await server?.close();
  aws.destroy();
  await rm(work, { recursive: true, force: true });
});

describe('POST /exports and GET /exports/{exportId}', () => {
  it(
    'queues an export (202, Location), which the worker completes; the ' +
      'link serves the bag whose SHA-256 the job states',
    async () => {
      const started = await call(
        'POST',
        '/exports',
        JSON.stringify({ scope: { chats: [CHAT] }, description: 'API test' }),
      );
      expect(started.status).toBe(202);
      expect(started.json).toMatchObject({ status: 'queued', requestedBy: LEGAL_ADMIN, scope: { chats: [CHAT] } });
      expect(started.headers['location']).toBe(`/exports/${started.json.exportId}`);

      const done = await waitForExport(started.json.exportId);
      expect(done.status).toBe(200);
      expect(done.json).toMatchObject({
        status: 'completed',
        counts: {
          matched: 2,
          exported: 2,
          notArchived: 0,
          payloadBytes: contents[0]!.byteLength + contents[1]!.byteLength,
        },
        download: { expiresInSeconds: 300 },
      });
      const bag = await request(done.json.download.url);
      expect(bag.statusCode).toBe(200);
      const bytes = Buffer.from(await bag.body.arrayBuffer());
      expect(bytes.byteLength).toBe(done.json.download.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(done.json.download.sha256);
    },
  );

  it.each([
    ['no body', undefined, 400, /JSON body is required/],
    ['not JSON', '{"scope":', 400, /not valid JSON/],
    ['an empty scope', '{"scope":{}}', 400, /at least one of users, chats/],
    ['an unknown field', '{"scope":{"chats":["claude_chat_01A"]},"bucket":"x"}', 400, /bucket/i],
    ['a malformed chat id', '{"scope":{"chats":["../../etc"]}}', 400, /^scope\.chats\.0: /],
    ['from after to', '{"scope":{"from":"2025-02-01T00:00:00Z","to":"2025-01-01T00:00:00Z"}}', 400, /before scope\.to/],
    ['a malformed matter id', '{"matterId":"../M"}', 400, /^matterId: /],
  ])('refuses %s with a 4xx saying why', async (_what, body, status, message) => {
    const res = await call('POST', '/exports', body);
    expect(res.status).toBe(status);
    expect(res.json.error.type).toBe('invalid_request');
    expect(res.json.error.message).toMatch(message);
  });

  it('answers 404 for a matter no legal hold names, alone or with a scope, and queues nothing', async () => {
    for (const body of [{ matterId: 'M-never-placed' }, { matterId: 'M-never-placed', scope: { chats: [CHAT] } }]) {
      const res = await call('POST', '/exports', JSON.stringify(body));
      expect(res.status).toBe(404);
      expect(res.json.error).toEqual({ type: 'not_found', message: 'No legal hold names matter M-never-placed.' });
    }
  });

  it('refuses a body that is not JSON by its type (415) or too large (413)', async () => {
    const typed = await call('POST', '/exports', '{"scope":{"chats":["claude_chat_01A"]}}', {
      'content-type': 'text/plain',
    });
    expect(typed.status).toBe(415);
    const big = await call('POST', '/exports', JSON.stringify({ scope: { users: ['x'.repeat(300 * 1024)] } }));
    expect(big.status).toBe(413);
  });

  it('answers 400 for a malformed export id and 404 for one never issued', async () => {
    expect((await call('GET', '/exports/exp_nope')).status).toBe(400);
    const missing = await call('GET', `/exports/exp_${'0'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(missing.json.error.type).toBe('not_found');
  });

  it('answers any body with a 4xx or a 202, never a 5xx (fuzzed)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ scope: v })),
        ),
        async (body) => {
          const res = await call('POST', '/exports', body);
          expect(res.status === 202 || (res.status >= 400 && res.status < 500)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('archiver export', () => {
  it(
    'starts an export, waits, downloads the bag and verifies its ' +
      'SHA-256; the bag passes unzip, sha256sum and md5sum',
    async () => {
      const out = join(work, 'bag.zip');
      const run = await runCli(
        ['--lookup-url', server.url, 'export', '--chat', CHAT, '--download', out, '--poll-seconds', '1', '--json'],
        process.env,
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result).toMatchObject({ status: 'completed', downloaded: { path: out, verified: true } });
      expect(
        createHash('sha256')
          .update(await readFile(out))
          .digest('hex'),
      ).toBe(result.download.sha256);
      const bag = await checkBag(out, result.exportId);
      expect(bag.payload).toHaveLength(2);
    },
  );

  it(
    "exports a matter by its id: the bag holds exactly the matter's files (its hold scope: the custodian's " +
      'files or the one named), bag-info names the matter, and each report carries its holds, fixity and trail',
    async () => {
      // The matter's scope selects ANY of its lists (hold rules): the custodian's file and one file of CHAT.
      const scope = { users: [MATTER_USER.emailAddress], fileIds: ['claude_gen_file_01Api0'] };
      const placed = await call('POST', '/holds', JSON.stringify({ matterId: MATTER, reason: 'Doe v. Roe', scope }));
      expect(placed.status).toBe(202);
      // An auditor's read of the custodian's file: the report's trail must name it.
      const read = await call('GET', '/files/claude_gen_file_01ApiCustodian', undefined, {
        'user-agent': 'trail-ua/1',
      });
      expect(read.status).toBe(200);

      const out = join(work, 'matter.zip');
      const run = await runCli(
        ['--lookup-url', server.url, 'export', '--matter', MATTER, '--download', out, '--poll-seconds', '1', '--json'],
        process.env,
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result).toMatchObject({ status: 'completed', matterId: MATTER, scope: null });
      expect(result.counts).toMatchObject({ matched: 2, exported: 2, notArchived: 0 });
      const bag = await checkBag(out, result.exportId);
      expect(bag.payload.map((p) => p.split('/').pop()).sort()).toEqual([
        expect.stringMatching(/^claude_gen_file_01Api0_/),
        expect.stringMatching(/^claude_gen_file_01ApiCustodian_/),
      ]);
      expect(bag.bagInfo['Archiver-Matter']).toBe(MATTER);
      expect(JSON.parse(bag.bagInfo['Archiver-Matter-Scope'] ?? '')).toEqual(scope);

      const report = JSON.parse(
        await readFile(join(bag.dir, 'custody', 'claude_gen_file_01ApiCustodian.json'), 'utf8'),
      );
      // The sweep's hold-work is not run here: the matter holds the file by its scope, not yet by a mark.
      expect(report.holds).toEqual([
        expect.objectContaining({
          matterId: MATTER,
          basis: 'scope',
          heldNow: false,
          reason: 'Doe v. Roe',
          matterStatus: 'active',
          placedBy: LEGAL_ADMIN,
          releasedAt: null,
        }),
      ]);
      expect(report.fixity).toMatchObject({ status: 'never checked', checks: 0, events: [] });
      expect(report.accessTrail.total).toBe(1);
      expect(report.accessTrail.events).toEqual([
        expect.objectContaining({
          principal: LEGAL_ADMIN,
          action: 'GET /files/{fileId}',
          status: 200,
          sourceIp: '127.0.0.1',
          userAgent: 'trail-ua/1',
        }),
      ]);
      const html = await readFile(join(bag.dir, 'custody', 'index.html'), 'utf8');
      expect(html).toContain(`Matter: ${MATTER}, its scope`);
      expect(html).toMatch(/Sources of evidence: .*legal holds .*fixity events .*the access trail/);
    },
  );

  it('exits 1 naming the matter when no legal hold names it', async () => {
    const run = await runCli(['--lookup-url', server.url, 'export', '--matter', 'M-unheard-of', '--json'], process.env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/No legal hold names matter M-unheard-of\./);
  });

  it('refuses a command line with no scope as a usage error (exit 2) before any request', async () => {
    const run = await runCli(['--lookup-url', server.url, 'export', '--wait'], process.env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/give a scope, a matterId, or both/);
  });
});
