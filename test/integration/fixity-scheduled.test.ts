/**
 * The scheduled fixity audit (lambdas/fixity/runtime.ts) against s3rver and dynalite, built as the
 * Lambda builds it, its clients' calls checked against the deployed fixity role's grants: an intact
 * copy passes its cheap check on its day; a byte changed in s3rver's stored file behind the
 * archiver's back is found by the deep sample, recorded on the record as failed, and counted as
 * FixityFailures. The checkpoint marks the day's pass done, so a second run that day reads nothing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createFixityClients, createFixityRuntime } from '../../lambdas/fixity/runtime.js';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { FixityConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import type { Counters, Log } from '../../shared/platform/telemetry.js';
import { createIngestStack, type IngestStack } from '../support/ingest-stack.js';
import { recordCallsOf } from '../support/permissions/aws-call-recorder.js';
import { generatedFileFactory } from '../support/upstream.js';

let stack: IngestStack;
const file = generatedFileFactory({ content: Buffer.from('the board minutes, as archived\n') });
const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };
const DAY = 86_400_000;
const monday = Date.UTC(2026, 11, 7, 2);

function auditRun(opts: { rotationDays: number; samplePercent: number; now: number }) {
  const metrics: string[] = [];
  const counters: Counters = { record: (name) => metrics.push(name) };
  const config = loadConfig(FixityConfigSchema, {
    ARCHIVE_BUCKET: stack.bucket,
    INDEX_TABLE: stack.table,
    FIXITY_ROTATION_DAYS: String(opts.rotationDays),
    FIXITY_DEEP_SAMPLE_PERCENT: String(opts.samplePercent),
    LOCAL_S3_ENDPOINT: stack.archive.endpoint,
    LOCAL_DYNAMODB_ENDPOINT: stack.aws.dynamodbEndpoint,
  });
  const clients = createFixityClients(config);
  for (const client of Object.values(clients)) recordCallsOf(client, 'fixity', stack.bindings);
  const run = createFixityRuntime(config, { log: quiet, counters }, clients, () => opts.now);
  return { run: () => run(() => 15 * 60_000), metrics };
}

beforeAll(async () => {
  stack = await createIngestStack({ s3: 's3rver' });
  await stack.upstream.addFile(file);
  const { failed } = await stack.deliver([serializeJob({ fileId: file.id, chatId: file.chatId })]);
  expect(failed).toEqual([]);
});
afterAll(async () => {
  await stack?.close();
});

describe('scheduled fixity audit (s3rver)', () => {
  it('cheap-checks an intact copy on its day, records the pass, and does not run the finished pass again', async () => {
    const audit = auditRun({ rotationDays: 1, samplePercent: 0, now: monday });
    const result = await audit.run();
    expect(result).toMatchObject({ checked: { cheap: 1, deep: 0 }, failed: 0, errors: 0, done: true });
    expect(audit.metrics).toEqual([]);
    const record = (await stack.index.get(file.id)) as ArchivedRecord;
    expect(record.fixity).toMatchObject({ status: 'passed', lastTier: 'cheap', checks: 1 });

    const again = await audit.run();
    expect(again.checked).toEqual({ cheap: 0, deep: 0 });
    expect(((await stack.index.get(file.id)) as ArchivedRecord).fixity?.checks).toBe(1);
  });

  it('finds a byte flipped on disk with the deep sample, records the failure and emits FixityFailures', async () => {
    const record = (await stack.index.get(file.id)) as ArchivedRecord;
    const onDisk = join(inject('localAws').s3rverDirectory, record.bucket, `${record.key}._S3rver_object`);
    const bytes = await readFile(onDisk);
    bytes[3] = (bytes[3] ?? 0) ^ 0x20;
    await writeFile(onDisk, bytes);

    const audit = auditRun({ rotationDays: 1, samplePercent: 100, now: monday + DAY });
    const result = await audit.run();
    expect(result).toMatchObject({ checked: { cheap: 0, deep: 1 }, failed: 1, errors: 0, done: true });
    expect(audit.metrics).toEqual(['FixityFailures']);
    const after = (await stack.index.get(file.id)) as ArchivedRecord;
    expect(after.fixity).toMatchObject({ status: 'failed', lastTier: 'deep', checks: 2 });
    expect(after.fixityEvents?.at(-1)?.detail).toMatch(/MD5 [0-9a-f]{32} != recorded .*SHA-256/);
    const listing = await stack.index.listChat(file.chatId, 10, undefined);
    expect((listing.items[0] as ArchivedRecord).fixity).toMatchObject({ status: 'failed' });
  });
});
