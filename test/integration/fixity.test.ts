/**
 * Fixity on demand (`POST /files/{fileId}/verify`) against s3rver, whose stored bytes are files on
 * disk: a byte changed behind the archiver's back is found by the deep tier. s3rver keeps no
 * full-object checksum, so its cheap tier compares the version and size only (the RADOS gateway
 * tier, fixity-gateway.test.ts, compares the CRC-32 too).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import type { FixityEvent } from '../../shared/contracts/fixity.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { createIngestStack, type IngestStack } from '../support/ingest-stack.js';
import { callLookup } from '../support/lookup-call.js';
import { createRecordedLookup } from '../support/recorded-lookup.js';
import { generatedFileFactory } from '../support/upstream.js';

const AUDITOR = 'arn:aws:sts::111122223333:assumed-role/auditor/ines';
let stack: IngestStack;
let lookup: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
const file = generatedFileFactory({ content: Buffer.from('the quarterly numbers, as archived\n') });

const verify = (tier: 'cheap' | 'deep') =>
  callLookup(lookup, AUDITOR, 'POST', '/files/{fileId}/verify', { path: { fileId: file.id }, query: { tier } });

beforeAll(async () => {
  stack = await createIngestStack({ s3: 's3rver' });
  lookup = await createRecordedLookup(stack);
  await stack.upstream.addFile(file);
  const { failed } = await stack.deliver([serializeJob({ fileId: file.id, chatId: file.chatId })]);
  expect(failed).toEqual([]);
});
afterAll(async () => {
  await stack?.close();
});

describe('fixity on demand (s3rver)', () => {
  it('passes both tiers on an intact copy and records each check on the record and its chat listing', async () => {
    const cheap = await verify('cheap');
    expect(cheap.status).toBe(200);
    expect(cheap.json['event']).toMatchObject({
      eventType: 'fixity check',
      tier: 'cheap',
      outcome: 'passed',
      tool: 'S3 HeadObject (ChecksumMode ENABLED)',
    });
    const deep = await verify('deep');
    expect(deep.json['event']).toMatchObject({ tier: 'deep', outcome: 'passed' });
    const record = (await stack.index.get(file.id)) as ArchivedRecord;
    expect(record.fixity).toMatchObject({ status: 'passed', lastTier: 'deep', checks: 2 });
    expect(record.fixityEvents?.map((e) => e.tier)).toEqual(['cheap', 'deep']);
    const listing = await stack.index.listChat(file.chatId, 10, undefined);
    expect((listing.items[0] as ArchivedRecord).fixityEvents).toHaveLength(2);
  });

  it(
    'finds a byte changed on disk behind the archiver\u2019s back ' + 'with the deep tier, and the record says failed',
    async () => {
      const record = (await stack.index.get(file.id)) as ArchivedRecord;
      const onDisk = join(inject('localAws').s3rverDirectory, record.bucket, `${record.key}._S3rver_object`);
      const bytes = await readFile(onDisk);
      bytes[0] = (bytes[0] ?? 0) ^ 0x01;
      await writeFile(onDisk, bytes);

      const deep = await verify('deep');
      const event = deep.json['event'] as FixityEvent;
      expect(event).toMatchObject({ tier: 'deep', outcome: 'failed' });
      expect(event.detail).toMatch(/MD5 [0-9a-f]{32} != recorded .*SHA-256/);
      const after = await callLookup(lookup, AUDITOR, 'GET', '/files/{fileId}', { path: { fileId: file.id } });
      expect(after.json['fixity']).toMatchObject({ status: 'failed', lastTier: 'deep' });
    },
  );

  it('answers 400 for an unknown tier, 404 for an unknown file', async () => {
    const bad = await callLookup(lookup, AUDITOR, 'POST', '/files/{fileId}/verify', {
      path: { fileId: file.id },
      query: { tier: 'everything' },
    });
    expect(bad.status).toBe(400);
    const unknown = await callLookup(lookup, AUDITOR, 'POST', '/files/{fileId}/verify', {
      path: { fileId: 'claude_gen_file_01NeverSeen' },
    });
    expect(unknown.status).toBe(404);
  });
});
