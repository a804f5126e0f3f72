import { createHash } from 'node:crypto';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeJob } from '../../shared/contracts/job.js';
import { objectKeyFor } from '../../shared/contracts/object-keys.js';
import { chatPartition, fileItemKey } from '../../shared/contracts/table-keys.js';
import { createIngestStack } from '../support/ingest-stack.js';
import type { IngestStack } from '../support/ingest-stack.js';
import { generatedFileFactory, uploadedFileFactory } from '../support/upstream.js';

/**
 * What the index keeps about a file, on the wire: the evidence of an archived copy, the failure of
 * one that could not be made, and the upstream `request-id` of each failure, read straight from the
 * table (dynalite) as the file item and the copy listed under each of its chats.
 */
let stack: IngestStack;
/** UNSIZED_MAX_MIB of 1, so that an unsized file of a few MiB overruns it. */
let capped: IngestStack;
beforeAll(async () => {
  [stack, capped] = await Promise.all([
    createIngestStack({ s3: 'fauxqs' }),
    createIngestStack({ s3: 'fauxqs', unsizedMaxMib: 1 }),
  ]);
});
afterAll(async () => {
  await Promise.all([stack.close(), capped.close()]);
});

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const job = (fileId: string, extra: object = {}) => serializeJob({ fileId, ...extra });

async function fileItem(fileId: string): Promise<Record<string, unknown> | undefined> {
  return (
    await stack.aws.ddb.send(new GetCommand({ TableName: stack.table, Key: fileItemKey(fileId), ConsistentRead: true }))
  ).Item;
}

async function listingItems(chatId: string): Promise<Record<string, unknown>[]> {
  const res = await stack.aws.ddb.send(
    new QueryCommand({
      TableName: stack.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': chatPartition(chatId) },
    }),
  );
  return res.Items ?? [];
}

/** The `request-id` upstream gave its requests for a file's endpoint, oldest first. */
function requestIds(s: IngestStack, fileId: string, endpoint: 'metadata' | 'content'): string[] {
  return s.upstream.requests.filter((r) => r.id === fileId && r.endpoint === endpoint).map((r) => r.requestId);
}

describe('the published md5 and Content-MD5 disagree: the header is the authority (D2)', () => {
  it('archives bytes that match Content-MD5 and records the md5 upstream published beside it', async () => {
    const content = Buffer.from('uploaded bytes whose published md5 is wrong\n');
    const file = uploadedFileFactory({ content, publishedMd5: 'f'.repeat(32) });
    const chatId = file.chatIds[0] ?? '';
    await stack.upstream.addFile(file);

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    expect((await stack.readObject(objectKeyFor('uploaded', file.id))).body.equals(content)).toBe(true);
    const evidence = {
      status: 'archived',
      md5: md5(content),
      publishedMd5Mismatch: { metadataMd5: 'f'.repeat(32), contentMd5: md5(content) },
    };
    expect(await stack.index.get(file.id)).toMatchObject(evidence);
    expect(await listingItems(chatId)).toMatchObject([evidence]);
  });
});

describe('no size_bytes: downloaded, verified by Content-MD5, and bounded (D3)', () => {
  it('archives a file upstream published no size for', async () => {
    const content = Buffer.from('a generated file whose size upstream does not know\n');
    const file = generatedFileFactory({ content, sizeUnpublished: true });
    await stack.upstream.addFile(file);

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    expect(await stack.index.get(file.id)).toMatchObject({
      status: 'archived',
      sizeBytes: content.length,
      md5: md5(content),
    });
    expect((await stack.readObject(objectKeyFor('generated', file.id))).body.equals(content)).toBe(true);
  });

  it('refuses an unsized body that does not match Content-MD5', async () => {
    const file = generatedFileFactory({ sizeUnpublished: true });
    await stack.upstream.addFile(file);
    stack.upstream.injectFault(file.id, 'content', { kind: 'wrong-content-md5' });

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toHaveLength(1);
    expect(await stack.objectExists(objectKeyFor('generated', file.id))).toBe(false);
    expect(await stack.index.get(file.id)).toMatchObject({
      status: 'pending',
      lastError: expect.stringContaining('content-md5'),
    });
  });

  it(
    'cuts off an unsized download past UNSIZED_MAX_MIB and records ' + 'the file failed (too_large), storing nothing',
    async () => {
      const file = uploadedFileFactory({ content: { size: 3 * 1024 * 1024, seed: 9 }, sizeUnpublished: true });
      await capped.upstream.addFile(file);

      const { failed } = await capped.deliver([job(file.id)]);

      expect(failed).toEqual([]);
      expect(await capped.index.get(file.id)).toMatchObject({
        status: 'failed',
        reason: 'too_large',
        detail: expect.stringContaining(String(1024 * 1024)),
        upstreamRequestId: requestIds(capped, file.id, 'content')[0],
      });
      expect(await capped.objectExists(objectKeyFor('uploaded', file.id))).toBe(false);
      expect(capped.openUploads()).toBe(0);
    },
  );
});

describe('the upstream request-id is kept with every failure (D4)', () => {
  it('a body that broke off: on the pending record and in the failure log line', async () => {
    const file = uploadedFileFactory({ content: { size: 2 * 1024 * 1024, seed: 4 } });
    await stack.upstream.addFile(file);
    for (let i = 0; i < 3; i++) stack.upstream.injectFault(file.id, 'content', { kind: 'reset', afterBytes: 1024 });

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toHaveLength(1);
    const ids = requestIds(stack, file.id, 'content');
    expect(ids).toHaveLength(3);
    expect(await stack.index.get(file.id)).toMatchObject({
      status: 'pending',
      lastError: expect.stringContaining('broke off'),
      lastUpstreamRequestId: ids[2],
    });
    const logged = stack.logs.filter(
      (l) => l.attributes['fileId'] === file.id && l.attributes['upstreamRequestId'] !== undefined,
    );
    expect(logged.map((l) => l.attributes['upstreamRequestId'])).toEqual(ids);
  });

  it('bytes that failed a check: on the pending record and in the integrity log line', async () => {
    const file = generatedFileFactory();
    await stack.upstream.addFile(file);
    stack.upstream.injectFault(file.id, 'content', { kind: 'wrong-content-md5' });

    await stack.deliver([job(file.id)]);

    const [id] = requestIds(stack, file.id, 'content');
    expect(id).toMatch(/^req_/);
    expect(await stack.index.get(file.id)).toMatchObject({ status: 'pending', lastUpstreamRequestId: id });
    expect(
      stack.logs.find((l) => l.attributes['fileId'] === file.id && l.attributes['check'] === 'content-md5')?.attributes,
    ).toMatchObject({ upstreamRequestId: id });
  });
});

describe('x-should-retry overrides every status (D7)', () => {
  it.each([429, 401, 403] as const)('takes x-should-retry: false on a %i as final too', async (status) => {
    const file = generatedFileFactory();
    await stack.upstream.addFile(file);
    stack.upstream.injectFault(file.id, 'content', { status, shouldRetry: false, retryAfterSeconds: 1 });

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    expect(stack.upstream.requestCount(file.id, 'content')).toBe(1);
    expect(await stack.index.get(file.id)).toMatchObject({
      status: 'failed',
      reason: 'not_retryable',
      upstreamStatus: status,
    });
  });

  it('retries a 401 that carries x-should-retry: true, as the official SDK does', async () => {
    const file = generatedFileFactory();
    await stack.upstream.addFile(file);
    stack.upstream.injectFault(file.id, 'content', { status: 401, shouldRetry: true });

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    expect(stack.upstream.requestCount(file.id, 'content')).toBe(2);
    expect(await stack.index.get(file.id)).toMatchObject({ status: 'archived' });
  });
});

describe('a record never carries evidence of an earlier status (D9)', () => {
  it(
    're-archiving a file recorded unavailable drops its reason and ' +
      'detail, in the file item and in its chat listing',
    async () => {
      const file = uploadedFileFactory();
      const chatId = file.chatIds[0] ?? '';
      await stack.upstream.addFile(file);
      stack.upstream.removeFile(file.id);
      expect((await stack.deliver([job(file.id, { chatId })])).failed).toEqual([]);
      expect(await fileItem(file.id)).toMatchObject({
        status: 'unavailable',
        reason: 'not_found',
        detail: expect.stringContaining('404'),
      });
      expect(await listingItems(chatId)).toMatchObject([{ status: 'unavailable', reason: 'not_found' }]);

      // The file is back upstream (a restored upload, say) and a later job archives it.
      await stack.upstream.addFile(file);
      expect((await stack.deliver([job(file.id, { chatId })])).failed).toEqual([]);

      const item = await fileItem(file.id);
      expect(item).toMatchObject({ status: 'archived' });
      for (const stale of ['reason', 'detail', 'recordedAt', 'lastError'])
        expect(item, stale).not.toHaveProperty(stale);
      const listed = await listingItems(chatId);
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ status: 'archived', fileId: file.id });
      for (const stale of ['reason', 'detail', 'recordedAt', 'lastError'])
        expect(listed[0], stale).not.toHaveProperty(stale);
    },
  );
});

describe('who and where: provenance on the record, on the wire', () => {
  const alice = { id: 'user_01alice', emailAddress: 'alice@example.com' };

  it(
    'keeps the provenance a job carries on the file item and on its ' +
      'chat listing; message ids are a set that grows',
    async () => {
      const file = uploadedFileFactory({ content: Buffer.from('uploaded with provenance\n') });
      const chatId = file.chatIds[0] ?? '';
      await stack.upstream.addFile(file);
      const provenance = {
        creator: alice,
        organizationId: 'org_01acme',
        projectId: 'claude_proj_01plan',
        messageIds: ['claude_chat_msg_01a'],
      };

      expect((await stack.deliver([job(file.id, { chatId, provenance })])).failed).toEqual([]);
      // Seen again in another message: archived already, so no download, and the record gains the message.
      const contentRequests = requestIds(stack, file.id, 'content').length;
      await stack.deliver([job(file.id, { chatId, provenance: { messageIds: ['claude_chat_msg_01b'] } })]);

      const item = await fileItem(file.id);
      // DynamoDB keeps the message ids as a string set, so concurrent sightings add rather than overwrite.
      expect(item?.['messageIds']).toEqual(new Set(['claude_chat_msg_01a', 'claude_chat_msg_01b']));
      const expected = {
        status: 'archived',
        creator: alice,
        organizationId: 'org_01acme',
        projectId: 'claude_proj_01plan',
        messageIds: ['claude_chat_msg_01a', 'claude_chat_msg_01b'],
      };
      expect(await stack.index.get(file.id)).toMatchObject(expected);
      const [listed] = await listingItems(chatId);
      expect(listed).toMatchObject({ creator: alice, organizationId: 'org_01acme', projectId: 'claude_proj_01plan' });
      expect(requestIds(stack, file.id, 'content')).toHaveLength(contentRequests);
    },
  );

  it(
    'gives a record written before provenance existed the provenance ' + 'of a later job, and keeps a null creator',
    async () => {
      const file = generatedFileFactory({ content: Buffer.from('archived before provenance was kept\n') });
      await stack.upstream.addFile(file);
      await stack.deliver([job(file.id)]);
      expect(await fileItem(file.id)).not.toHaveProperty('creator');

      await stack.deliver([job(file.id, { provenance: { creator: null, organizationId: 'org_01acme' } })]);

      expect(await stack.index.get(file.id)).toMatchObject({
        status: 'archived',
        creator: null,
        organizationId: 'org_01acme',
      });
      expect(requestIds(stack, file.id, 'content')).toHaveLength(1);

      // A later job naming the creator and project: the search keys follow (found by the auditor's search).
      await stack.deliver([
        job(file.id, {
          provenance: {
            creator: { id: 'user_01Later', emailAddress: 'Later@Example.com' },
            projectId: 'claude_proj_01late',
          },
        }),
      ]);
      expect(await fileItem(file.id)).toMatchObject({
        sCreator: 'user_01Later',
        sEmail: 'later@example.com',
        sProject: 'claude_proj_01late',
      });
    },
  );
});
