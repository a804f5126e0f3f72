/**
 * Legal holds end to end on the real-S3 tier: the lookup API places and releases matters, their
 * sweeps run as hold-work messages on the real ingest queue (fauxqs) through the ingest handler
 * (reading each scope through the index's key conditions: test/integration/hold-scope.test.ts),
 * the index is dynalite, and the archive is Ceph's RADOS Gateway with Object Lock, configured as the
 * archive is deployed (versioned, default GOVERNANCE retention) and written by users that hold
 * exactly the deployed ingest and lookup roles' S3 statements, so a missing s3:PutObjectLegalHold
 * grant fails here with 403 as it would in AWS. Runs only where radosgw is installed (vitest.config.ts).
 */
import {
  DeleteObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
} from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callLookup } from '../support/lookup-call.js';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import type { Matter } from '../../shared/contracts/holds.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { createIngestStack, type IngestStack } from '../support/ingest-stack.js';
import { createRecordedLookup } from '../support/recorded-lookup.js';
import { generatedFileFactory, randomIdBody } from '../support/upstream.js';

const LEGAL_ADMIN = 'arn:aws:sts::111122223333:assumed-role/legal-admin/counsel@example.com';

let stack: IngestStack;
let lookup: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
const chatX = `claude_chat_${randomIdBody()}`;
const chatY = `claude_chat_${randomIdBody()}`;
const files = {
  a: generatedFileFactory({ chatId: chatX, content: Buffer.from('A: in chat X\n') }),
  b: generatedFileFactory({ chatId: chatX, content: Buffer.from('B: in chat X\n') }),
  c: generatedFileFactory({ chatId: chatY, content: Buffer.from('C: in chat Y\n') }),
  d: generatedFileFactory({ chatId: chatY, content: Buffer.from('D: in chat Y\n') }),
};

function call(method: string, resource: string, opts: { path?: Record<string, string>; body?: unknown } = {}) {
  return callLookup(lookup, LEGAL_ADMIN, method, resource, { ...opts, callerId: 'AROAEXAMPLE:counsel' });
}

/** Runs the queue's messages through the ingest handler until the matter's current sweep is done. */
async function runSweep(matterId: string): Promise<Matter> {
  for (let round = 0; round < 60; round++) {
    const matter = (await call('GET', '/holds/{matterId}', { path: { matterId } })).json as unknown as Matter;
    if (matter.progress.done) return matter;
    const messages = await stack.receiveAny();
    if (messages.length > 0) {
      const { failed } = await stack.invoke(messages);
      expect(failed).toEqual([]);
    }
  }
  throw new Error(`the sweep of ${matterId} did not finish`);
}

const record = async (file: { id: string }) => (await stack.index.get(file.id)) as ArchivedRecord;
/** The version's legal hold as S3 keeps it: ON, OFF, or `never set` (S3 then answers an error, not OFF). */
const legalHoldOf = async (r: ArchivedRecord) => {
  try {
    const res = await stack.s3.send(
      new GetObjectLegalHoldCommand({
        Bucket: r.bucket,
        Key: r.key,
        ...(r.versionId ? { VersionId: r.versionId } : {}),
      }),
    );
    return res.LegalHold?.Status;
  } catch (err) {
    if ((err as Error).name === 'ObjectLockConfigurationNotFoundError') return 'never set';
    throw err;
  }
};
/** Deletes the exact version as a caller allowed everything, s3:BypassGovernanceRetention included. */
const deleteVersion = (r: ArchivedRecord, bypassGovernance: boolean) =>
  stack.s3.send(
    new DeleteObjectCommand({
      Bucket: r.bucket,
      Key: r.key,
      VersionId: r.versionId ?? undefined,
      ...(bypassGovernance ? { BypassGovernanceRetention: true } : {}),
    }),
  );

beforeAll(async () => {
  // One index item per page: each sweep below takes several pages, chained through the queue.
  stack = await createIngestStack({ s3: 'rgw', holdPageSize: 1 });
  lookup = await createRecordedLookup(stack);
  for (const f of Object.values(files)) await stack.upstream.addFile(f);
  const { failed } = await stack.deliver(
    Object.values(files).map((f) => serializeJob({ fileId: f.id, chatId: f.chatId })),
  );
  expect(failed).toEqual([]);
  for (const f of Object.values(files)) expect((await record(f)).status).toBe('archived');
});
afterAll(async () => {
  await stack?.close();
});

describe('legal holds on a real S3 (RADOS Gateway)', () => {
  it(
    'places a matter on every archived version in its scope, in a ' +
      'sweep of several checkpointed pages, and records who, when, ' +
      'why and which matter',
    async () => {
      const placed = await call('POST', '/holds', {
        body: { matterId: 'M-1', reason: 'Litigation hold: Doe v. Example', scope: { chats: [chatX] } },
      });
      expect(placed.status).toBe(202);
      expect(placed.json).toMatchObject({ matterId: 'M-1', status: 'active', placedBy: LEGAL_ADMIN });

      const matter = await runSweep('M-1');
      expect(matter.progress).toMatchObject({ action: 'place', done: true, matched: 2, changed: 2 });
      // The sweep read the chat's two listings (a Query of its partition), not the table: one a page.
      expect(matter.progress).toMatchObject({ scanned: 2, page: 2 });

      for (const f of [files.a, files.b]) {
        const r = await record(f);
        expect(r.legalHolds?.['M-1']).toMatchObject({
          matterId: 'M-1',
          placedBy: LEGAL_ADMIN,
          reason: 'Litigation hold: Doe v. Example',
          via: 'matter',
        });
        expect(await legalHoldOf(r)).toBe('ON');
      }
      for (const f of [files.c, files.d]) {
        const r = await record(f);
        expect(r.legalHolds).toBeUndefined();
        expect(await legalHoldOf(r)).toBe('never set');
      }
      // The chat listing is a copy of the record: it shows the hold too.
      const listing = await stack.index.listChat(chatX, 10, undefined);
      expect(listing.items.map((i) => Object.keys((i as ArchivedRecord).legalHolds ?? {}))).toEqual([['M-1'], ['M-1']]);
    },
  );

  it('keeps a held version from being deleted, even by a caller that bypasses GOVERNANCE retention', async () => {
    const a = await record(files.a);
    for (const bypass of [false, true]) {
      await expect(deleteVersion(a, bypass)).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    }
    const head = await stack.s3.send(
      new HeadObjectCommand({ Bucket: a.bucket, Key: a.key, VersionId: a.versionId ?? undefined }),
    );
    expect(head.VersionId).toBe(a.versionId);
  });

  it(
    'releases one matter only: a version another matter holds stays ' +
      'held; the rest fall back to the bucket retention',
    async () => {
      expect(
        (
          await call('POST', '/holds', {
            body: { matterId: 'M-2', reason: 'Regulator inquiry', scope: { fileIds: [files.a.id, files.c.id] } },
          })
        ).status,
      ).toBe(202);
      await runSweep('M-2');
      expect(Object.keys((await record(files.a)).legalHolds ?? {}).sort()).toEqual(['M-1', 'M-2']);

      const released = await call('DELETE', '/holds/{matterId}', { path: { matterId: 'M-1' } });
      expect(released.status).toBe(202);
      expect(released.json).toMatchObject({ status: 'released', releasedBy: LEGAL_ADMIN });
      const matter = await runSweep('M-1');
      expect(matter.progress).toMatchObject({ action: 'release', done: true, matched: 2, changed: 2 });

      // A: M-2 still holds it.
      const a = await record(files.a);
      expect(Object.keys(a.legalHolds ?? {})).toEqual(['M-2']);
      expect(await legalHoldOf(a)).toBe('ON');
      await expect(deleteVersion(a, true)).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });

      // B: no matter holds it; the S3 legal hold is off and the record says none holds it.
      const b = await record(files.b);
      expect(b.legalHolds).toEqual({});
      expect(await legalHoldOf(b)).toBe('OFF');
      // The bucket's default retention still applies: GOVERNANCE until the retain-until date, so a
      // plain delete is refused and only a caller allowed to bypass governance may delete it (in
      // COMPLIANCE mode nobody could until the date passes).
      const retention = await stack.s3.send(
        new GetObjectRetentionCommand({ Bucket: b.bucket, Key: b.key, VersionId: b.versionId ?? undefined }),
      );
      expect(retention.Retention?.Mode).toBe('GOVERNANCE');
      await expect(deleteVersion(b, false)).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      await deleteVersion(b, true);
      await expect(
        stack.s3.send(new HeadObjectCommand({ Bucket: b.bucket, Key: b.key, VersionId: b.versionId ?? undefined })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    },
  );

  it('holds a file archived later at ingest when it falls in an active matter, without a sweep', async () => {
    const chatZ = `claude_chat_${randomIdBody()}`;
    expect(
      (await call('POST', '/holds', { body: { matterId: 'M-3', reason: 'Custodian Z', scope: { chats: [chatZ] } } }))
        .status,
    ).toBe(202);
    await runSweep('M-3');

    const late = generatedFileFactory({ chatId: chatZ, content: Buffer.from('E: archived after the hold\n') });
    await stack.upstream.addFile(late);
    const { failed } = await stack.deliver([serializeJob({ fileId: late.id, chatId: chatZ })]);
    expect(failed).toEqual([]);
    const e = await record(late);
    expect(e.legalHolds?.['M-3']).toMatchObject({ matterId: 'M-3', placedBy: LEGAL_ADMIN, via: 'ingest' });
    expect(await legalHoldOf(e)).toBe('ON');
  });

  it('lists the matters with their scope, status and progress', async () => {
    const { status, json } = await call('GET', '/holds');
    expect(status).toBe(200);
    const matters = json['matters'] as Matter[];
    expect(matters.map((m) => [m.matterId, m.status])).toEqual([
      ['M-1', 'released'],
      ['M-2', 'active'],
      ['M-3', 'active'],
    ]);
    expect(matters[1]?.scope).toEqual({ fileIds: [files.a.id, files.c.id] });
  });

  it('answers the same placement again with the stored matter, and another under a used id with 409', async () => {
    const again = await call('POST', '/holds', {
      body: { matterId: 'M-2', reason: 'Regulator inquiry', scope: { fileIds: [files.a.id, files.c.id] } },
    });
    expect(again.status).toBe(200);
    const other = await call('POST', '/holds', {
      body: { matterId: 'M-2', reason: 'Something else', scope: { chats: [chatY] } },
    });
    expect(other.status).toBe(409);
    expect(other.json).toMatchObject({ error: { type: 'conflict' } });
    expect((await stack.receiveAny()).length).toBe(0);
  });
});
