/**
 * Fixity on demand on the real-S3 tier (Ceph's RADOS Gateway, configured as the archive is deployed;
 * the lookup's S3 calls made by a user holding exactly the lookup role's S3 statements): the cheap
 * tier compares the full-object CRC-32 the gateway keeps with the version, and a version removed
 * behind the archiver's back (a delete that bypasses GOVERNANCE retention) fails both tiers. Runs
 * only where radosgw is installed (vitest.config.ts).
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
const file = generatedFileFactory({ content: Buffer.from('kept on the gateway\n') });
const verify = async (tier: 'cheap' | 'deep') =>
  (await callLookup(lookup, AUDITOR, 'POST', '/files/{fileId}/verify', { path: { fileId: file.id }, query: { tier } }))
    .json['event'] as FixityEvent;

beforeAll(async () => {
  stack = await createIngestStack({ s3: 'rgw' });
  lookup = await createRecordedLookup(stack);
  await stack.upstream.addFile(file);
  const { failed } = await stack.deliver([serializeJob({ fileId: file.id })]);
  expect(failed).toEqual([]);
});
afterAll(async () => {
  await stack?.close();
});

describe('fixity on demand (RADOS gateway)', () => {
  it('passes the cheap tier on the exact version and its size, and says the gateway returned no CRC-32', async () => {
    const record = (await stack.index.get(file.id)) as ArchivedRecord;
    expect(record.crc32).toMatch(/=$/);
    const event = await verify('cheap');
    expect(event).toMatchObject({ tier: 'cheap', outcome: 'passed', versionId: record.versionId });
    // The gateway checks a write's CRC-32 but returns none from HeadObject with ChecksumMode ENABLED
    // (S3 does): the event says what was compared rather than claiming the checksum.
    expect(event.detail).toBe('version and size (S3 returned no full-object CRC-32) match the record');
  });

  it('fails both tiers once the archived version is gone, and the record says so', async () => {
    const record = (await stack.index.get(file.id)) as ArchivedRecord;
    await stack.s3.send(
      new DeleteObjectCommand({
        Bucket: record.bucket,
        Key: record.key,
        VersionId: record.versionId ?? undefined,
        BypassGovernanceRetention: true,
      }),
    );
    expect(await verify('cheap')).toMatchObject({
      outcome: 'failed',
      detail: expect.stringMatching(/^the archived version is missing/),
    });
    expect(await verify('deep')).toMatchObject({
      outcome: 'failed',
      detail: expect.stringMatching(/^the archived version is missing/),
    });
    expect(((await stack.index.get(file.id)) as ArchivedRecord).fixity).toMatchObject({ status: 'failed', checks: 3 });
  });
});
