import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectKeyFor } from '../../shared/contracts/object-keys.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { chatListingSortKey, chatPartition, fileItemKey } from '../../shared/contracts/table-keys.js';
import { canonicalTimestamp } from '../../shared/contracts/timestamps.js';
import { METRIC } from '../../shared/contracts/metric-names.js';
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createIngestStack } from '../support/ingest-stack.js';
import type { IngestStack } from '../support/ingest-stack.js';
import {
  TEST_UPSTREAM_API_KEY,
  filesApiFileFactory,
  generatedFileFactory,
  uploadedFileFactory,
} from '../support/upstream.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
/** As S3 reports a CRC32 checksum: base64 of the four big-endian bytes. */
const crc32 = (b: Buffer) => {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(zlibCrc32(b));
  return value.toString('base64');
};
const job = (fileId: string, extra: object = {}) => serializeJob({ fileId, ...extra });

// Two stacks: s3rver keeps Content-Type/Content-Disposition and stores on disk (as `npm start` does);
// fauxqs lists multipart uploads, so failure tests can prove that none was left open.
let onDisk: IngestStack;
let fauxqs: IngestStack;
let stack: IngestStack;
beforeAll(async () => {
  [onDisk, fauxqs] = await Promise.all([
    createIngestStack({ s3: 's3rver', partSizeMib: 5 }),
    createIngestStack({ s3: 'fauxqs', partSizeMib: 5 }),
  ]);
});
afterAll(async () => {
  await Promise.all([onDisk.close(), fauxqs.close()]);
});

/** Asserts the failure left nothing visible: no object at the key and no multipart upload open. */
async function expectNothingStored(source: 'generated' | 'uploaded' | 'files_api', fileId: string) {
  const key = objectKeyFor(source, fileId);
  expect(await stack.objectExists(key)).toBe(false);
  expect(stack.commits(key)).toBe(0);
  expect(stack.openUploads()).toBe(0);
}

describe('ingest: files that archive (s3rver)', () => {
  beforeAll(() => {
    stack = onDisk;
  });
  it('archives a generated file: bytes, hashes, headers and the record indexed by file and by chat', async () => {
    const content = Buffer.from('quarter,revenue\nq3,1350000\n');
    const file = generatedFileFactory({ content, filename: 'q3.csv', mimeType: 'text/csv' });
    await stack.upstream.addFile(file);
    const before = { files: stack.metricTotal(METRIC.filesArchived), bytes: stack.metricTotal(METRIC.bytesArchived) };
    const latencies = stack.metrics.filter((m) => m.name === METRIC.upstreamLatency).length;

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    expect(stack.metricTotal(METRIC.filesArchived)).toBe(before.files + 1);
    expect(stack.metricTotal(METRIC.bytesArchived)).toBe(before.bytes + content.length);
    // One latency figure per upstream request: metadata and content.
    expect(stack.metrics.filter((m) => m.name === METRIC.upstreamLatency).length).toBe(latencies + 2);
    const key = objectKeyFor('generated', file.id);
    const object = await stack.readObject(key);
    expect(object.body.equals(content)).toBe(true);
    expect(object.contentType).toBe('text/csv');
    expect(object.contentDisposition).toBe(`attachment; filename="q3.csv"; filename*=UTF-8''q3.csv`);
    const record = await stack.index.get(file.id);
    expect(record).toMatchObject({
      status: 'archived',
      source: 'generated',
      chatIds: [file.chatId],
      filename: 'q3.csv',
      sizeBytes: content.length,
      md5: md5(content),
      sha256: sha256(content),
      crc32: crc32(content),
      bucket: stack.bucket,
      key,
      // Upstream's microseconds, in the one form every record and listing key uses.
      createdAt: canonicalTimestamp(file.createdAt),
    });
    expect(record?.upstreamRequestId).toMatch(/^req_/);
    const page = await stack.index.listChat(file.chatId, 10, undefined);
    expect(page.items.map((r) => r.fileId)).toEqual([file.id]);
    expect(stack.upstream.requestCount(file.id, 'metadata')).toBe(1);
    expect(stack.upstream.requestCount(file.id, 'content')).toBe(1);
  });

  it('skips the metadata request when the job carries the chat id and complete metadata', async () => {
    const content = Buffer.from('carried');
    const file = generatedFileFactory({ content });
    await stack.upstream.addFile(file);
    const body = job(file.id, {
      chatId: file.chatId,
      file: {
        filename: file.filename,
        md5: md5(content),
        mime_type: file.mimeType,
        size_bytes: content.length,
        created_at: file.createdAt,
      },
    });

    const { failed } = await stack.deliver([body]);

    expect(failed).toEqual([]);
    expect(stack.upstream.requestCount(file.id, 'metadata')).toBe(0);
    expect(stack.upstream.requestCount(file.id, 'content')).toBe(1);
    expect((await stack.index.get(file.id))?.status).toBe('archived');
  });

  it('lists an uploaded file under each of its two chats', async () => {
    const [chatA, chatB] = ['claude_chat_01twoA', 'claude_chat_01twoB'];
    const file = uploadedFileFactory({ chatIds: [chatA, chatB] });
    await stack.upstream.addFile(file);

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    for (const chat of [chatA, chatB]) {
      const page = await stack.index.listChat(chat, 10, undefined);
      expect(page.items.map((r) => [r.fileId, r.status])).toEqual([[file.id, 'archived']]);
      expect(page.items[0]?.chatIds).toEqual([chatA, chatB]);
    }
  });

  it('archives a downloadable Files API file (beta header sent; the server refuses requests without it)', async () => {
    const file = filesApiFileFactory({ content: Buffer.from('{"ok":true}') });
    await stack.upstream.addFile(file);

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    expect(await stack.index.get(file.id)).toMatchObject({ status: 'archived', source: 'files_api', chatIds: [] });
    expect((await stack.readObject(objectKeyFor('files_api', file.id))).body.toString()).toBe('{"ok":true}');
  });

  it('streams a multi-part file (23 MiB in 5 MiB parts) and verifies it whole', async () => {
    const file = uploadedFileFactory({ content: { size: 23 * 1024 * 1024, seed: 7 } });
    await stack.upstream.addFile(file);
    const digest = await stack.upstream.digestOf(file.id);

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    const stored = await stack.readObject(objectKeyFor('uploaded', file.id));
    // The FULL_OBJECT CRC-32 S3 checks at completion, combined from the five parts' CRCs: it must be
    // the CRC-32 of the whole object, or real S3 refuses every multipart completion.
    expect(await stack.index.get(file.id)).toMatchObject({
      status: 'archived',
      sha256: digest.sha256Hex,
      sizeBytes: digest.sizeBytes,
      crc32: crc32(stored.body),
    });
    expect(stack.commits(objectKeyFor('uploaded', file.id))).toBe(1);
  });

  it('keeps a hostile filename out of the key and encodes it in Content-Disposition and metadata', async () => {
    const hostile = `../../${'\u0007'}etc/pa"ss\r\nwd \ud800 ${'é'.repeat(3)}${'x'.repeat(480)}`;
    const file = generatedFileFactory({ filename: hostile });
    await stack.upstream.addFile(file);

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    const key = objectKeyFor('generated', file.id);
    expect(key).toBe(`archive/generated/${file.id}`);
    const object = await stack.readObject(key);
    expect(object.contentDisposition).toMatch(
      /^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''[A-Za-z0-9%!#$&+\-.^_`|~]+$/,
    );
    expect(object.contentDisposition).not.toMatch(/[\r\n\u0007/]/);
    for (const value of Object.values(object.metadata)) expect(value).toMatch(/^[\x20-\x7e]*$/);
    // The record keeps the name as upstream gave it (evidence, not a path), made well-formed UTF-8.
    expect((await stack.index.get(file.id))?.filename).toBe(hostile.replace('\ud800', '\uFFFD'));
  });
});

describe('ingest: integrity failures never become visible', () => {
  beforeAll(() => {
    stack = fauxqs;
  });
  it.each([
    ['a wrong Content-MD5', 'content-md5'],
    ['a wrong metadata md5 and no Content-MD5', 'metadata-md5'],
    ['a truncated body', 'size'],
  ] as const)('%s fails the record, aborts the upload and counts an integrity failure', async (_name, check) => {
    // 12 MiB: the failure is found after parts were uploaded, so the multipart abort is exercised too.
    const file = uploadedFileFactory({ content: { size: 12 * 1024 * 1024, seed: 3 } });
    if (check === 'metadata-md5') file.publishedMd5 = 'f'.repeat(32);
    await stack.upstream.addFile(file);
    if (check === 'content-md5') stack.upstream.injectFault(file.id, 'content', { kind: 'wrong-content-md5' });
    if (check === 'metadata-md5') stack.upstream.injectFault(file.id, 'content', { kind: 'no-content-md5' });
    if (check === 'size')
      stack.upstream.injectFault(file.id, 'content', { kind: 'truncate', afterBytes: 7 * 1024 * 1024 });
    const before = stack.metricTotal(METRIC.integrityFailures);
    const uploadsBefore = stack.createdUploads();

    const { failed, records } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([records[0]?.messageId]);
    expect(stack.createdUploads()).toBe(uploadsBefore + 1);
    await expectNothingStored('uploaded', file.id);
    expect(stack.metricTotal(METRIC.integrityFailures)).toBe(before + 1);
    expect(stack.logs.some((l) => l.attributes['fileId'] === file.id && l.attributes['check'] === check)).toBe(true);
    const record = await stack.index.get(file.id);
    expect(record?.status).toBe('pending');
    expect(record?.status === 'pending' && record.lastError).toContain('IntegrityError');
  });

  it('a single-part body with a wrong Content-MD5 is never put', async () => {
    const file = generatedFileFactory();
    await stack.upstream.addFile(file);
    stack.upstream.injectFault(file.id, 'content', { kind: 'wrong-content-md5' });

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toHaveLength(1);
    await expectNothingStored('generated', file.id);
  });
});

describe('ingest: upstream failures follow the retry table', () => {
  beforeAll(() => {
    stack = fauxqs;
  });
  it('retries a connection reset mid-body in process and archives the file whole', async () => {
    const file = uploadedFileFactory({ content: { size: 6 * 1024 * 1024, seed: 11 } });
    await stack.upstream.addFile(file);
    stack.upstream.injectFault(file.id, 'content', { kind: 'reset', afterBytes: 1024 * 1024 });

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    expect(stack.upstream.requestCount(file.id, 'content')).toBe(2);
    expect(await stack.index.get(file.id)).toMatchObject({
      sha256: (await stack.upstream.digestOf(file.id)).sha256Hex,
    });
    expect(stack.openUploads()).toBe(0);
  });

  it('retries 529 overloaded in process', async () => {
    const file = generatedFileFactory();
    await stack.upstream.addFile(file);
    stack.upstream.injectFault(file.id, 'content', { status: 529 });

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    expect(stack.upstream.requestCount(file.id, 'content')).toBe(2);
    expect(await stack.index.get(file.id)).toMatchObject({ status: 'archived' });
    expect(stack.commits(objectKeyFor('generated', file.id))).toBe(1);
  });

  it('defers a 429 by a copy delayed for retry-after instead of sleeping, and counts it', async () => {
    const file = generatedFileFactory();
    await stack.upstream.addFile(file);
    stack.upstream.injectFault(file.id, 'metadata', { status: 429, retryAfterSeconds: 2 });
    const before = stack.metricTotal(METRIC.upstreamThrottled);

    const started = Date.now();
    const { failed } = await stack.deliver([job(file.id)]);

    // The delivery is acknowledged: the wait does not use one of the job's receives.
    expect(failed).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(stack.upstream.requestCount(file.id, 'metadata')).toBe(1);
    expect(stack.metricTotal(METRIC.upstreamThrottled)).toBe(before + 1);
    await expectNothingStored('generated', file.id);
    // The copy comes back after the 2 s retry-after (not the queue's 30 s visibility timeout), counted.
    await new Promise((r) => setTimeout(r, 2_500));
    const copies = await stack.receiveAny();
    const copy = copies.find((m) => m.Body && JSON.parse(m.Body).fileId === file.id);
    expect(copy?.MessageAttributes?.['deferrals']).toMatchObject({ DataType: 'Number', StringValue: '1' });
    expect(copy?.Attributes?.['ApproximateReceiveCount']).toBe('1');
    const again = await stack.invoke(copies);
    expect(again.failed).toEqual([]);
    expect(await stack.index.get(file.id)).toMatchObject({ status: 'archived' });
  });

  it('takes x-should-retry: false as final: records the file failed and acknowledges, without a retry', async () => {
    const file = generatedFileFactory();
    await stack.upstream.addFile(file);
    stack.upstream.injectFault(file.id, 'metadata', { status: 500, shouldRetry: false });

    const { failed } = await stack.deliver([job(file.id, { chatId: file.chatId })]);

    expect(failed).toEqual([]);
    expect(stack.upstream.requestCount(file.id, 'metadata')).toBe(1);
    await expectNothingStored('generated', file.id);
    const refused = stack.upstream.requests.find((r) => r.id === file.id && r.status === 500);
    expect(await stack.index.get(file.id)).toMatchObject({
      status: 'failed',
      reason: 'not_retryable',
      upstreamStatus: 500,
      upstreamErrorType: 'api_error',
      upstreamRequestId: refused?.requestId,
      chatIds: [file.chatId],
    });
    expect((await stack.index.listChat(file.chatId, 10, undefined)).items.map((r) => r.status)).toEqual(['failed']);
  });

  it.each([401, 403] as const)(
    'lets a %i reach the dead-letter queue (not acknowledged) and counts an auth failure',
    async (status) => {
      const file = generatedFileFactory();
      await stack.upstream.addFile(file);
      stack.upstream.injectFault(file.id, 'metadata', { status });
      const before = stack.metricTotal(METRIC.upstreamAuthFailures);

      const { failed } = await stack.deliver([job(file.id)]);

      expect(failed).toHaveLength(1);
      expect(stack.upstream.requestCount(file.id, 'metadata')).toBe(1);
      expect(stack.metricTotal(METRIC.upstreamAuthFailures)).toBe(before + 1);
      await expectNothingStored('generated', file.id);
      expect(await stack.index.get(file.id)).toMatchObject({
        status: 'pending',
        lastError: expect.stringContaining(String(status)),
      });
    },
  );

  it('records a 404 as a final outcome and acknowledges the message', async () => {
    const file = uploadedFileFactory();
    const chatId = file.chatIds[0] ?? '';
    await stack.upstream.addFile(file);
    stack.upstream.removeFile(file.id);

    const { failed } = await stack.deliver([job(file.id, { chatId })]);

    expect(failed).toEqual([]);
    expect(await stack.index.get(file.id)).toMatchObject({
      status: 'unavailable',
      reason: 'not_found',
      chatIds: [chatId],
    });
    expect((await stack.index.listChat(chatId, 10, undefined)).items.map((r) => r.status)).toEqual(['unavailable']);
    await expectNothingStored('uploaded', file.id);
  });

  it('records a generated file expired when upstream published no size and its content answers 404', async () => {
    const file = generatedFileFactory({ expired: true });
    await stack.upstream.addFile(file);

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    expect(await stack.index.get(file.id)).toMatchObject({ status: 'unavailable', reason: 'expired', sizeBytes: null });
    // No size is no proof of expiry: the content was asked for, and its 404 is.
    expect(stack.upstream.requestCount(file.id, 'content')).toBe(1);
  });

  it('records a non-downloadable Files API file without requesting content', async () => {
    const file = filesApiFileFactory({ downloadable: false });
    await stack.upstream.addFile(file);

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    expect(await stack.index.get(file.id)).toMatchObject({ status: 'unavailable', reason: 'not_downloadable' });
    expect(stack.upstream.requestCount(file.id, 'content')).toBe(0);
    await expectNothingStored('files_api', file.id);
  });

  it('aborts at the invocation deadline and returns the job to the queue', async () => {
    const file = generatedFileFactory();
    await stack.upstream.addFile(file);
    stack.upstream.injectFault(file.id, 'content', { kind: 'stall', ms: 10_000 });

    const started = Date.now();
    const { failed } = await stack.deliver([job(file.id)], { timeoutMs: 3_000 });

    expect(failed).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(stack.logs.some((l) => l.attributes['fileId'] === file.id && l.attributes['outcome'] === 'deadline')).toBe(
      true,
    );
    await expectNothingStored('generated', file.id);
  });
});

describe('ingest: queue semantics', () => {
  beforeAll(() => {
    stack = fauxqs;
  });
  it(
    'sends a malformed job to the dead-letter queue at once with ' + 'its reason, without failing its neighbours',
    async () => {
      const good = generatedFileFactory();
      await stack.upstream.addFile(good);

      const { failed } = await stack.deliver(['{"fileId": "claude_chat_not_a_file"}', job(good.id)]);

      expect(failed).toEqual([]);
      expect((await stack.index.get(good.id))?.status).toBe('archived');
      expect(stack.metricTotal(METRIC.malformedJobs)).toBeGreaterThanOrEqual(1);
      const dead = await stack.deadLetters();
      const rejected = dead.find((m) => m.Body === '{"fileId": "claude_chat_not_a_file"}');
      expect(rejected?.MessageAttributes?.['rejectReason']?.StringValue).toContain('fileId');
    },
  );

  it('acknowledges a duplicate delivery without downloading again: one object version, one record', async () => {
    const file = generatedFileFactory();
    await stack.upstream.addFile(file);

    await stack.deliver([job(file.id)]);
    const second = await stack.deliver([job(file.id)]);

    expect(second.failed).toEqual([]);
    expect(stack.upstream.requestCount(file.id, 'content')).toBe(1);
    expect(stack.commits(objectKeyFor('generated', file.id))).toBe(1);
    expect(stack.logs.some((l) => l.attributes['fileId'] === file.id && l.attributes['outcome'] === 'duplicate')).toBe(
      true,
    );
  });

  it(
    'serialises two concurrent deliveries of one file: one archives, ' + 'the other defers, then acknowledges',
    async () => {
      const file = uploadedFileFactory({ content: { size: 8 * 1024 * 1024, seed: 5 } });
      await stack.upstream.addFile(file);
      const [m1, m2] = await stack.sendAndReceive([job(file.id), job(file.id)]);
      if (!m1 || !m2) throw new Error('two messages expected');
      const delayedBefore = (await stack.queueCounts()).delayed;

      const [a, b] = await Promise.all([stack.invoke([m1]), stack.invoke([m2])]);

      // Both acknowledged: the one that found the claim held sent a copy delayed until the lease ends.
      expect([a.failed, b.failed]).toEqual([[], []]);
      expect((await stack.queueCounts()).delayed).toBe(delayedBefore + 1);
      expect(
        stack.logs.filter((l) => l.attributes['fileId'] === file.id && l.attributes['outcome'] === 'deferred'),
      ).toHaveLength(1);
      expect(stack.upstream.requestCount(file.id, 'content')).toBe(1);
      expect(stack.commits(objectKeyFor('uploaded', file.id))).toBe(1);
      const retry = await stack.deliver([job(file.id)]);
      expect(retry.failed).toEqual([]);
      expect(stack.upstream.requestCount(file.id, 'content')).toBe(1);
      const item = await stack.aws.ddb.send(new GetCommand({ TableName: stack.table, Key: fileItemKey(file.id) }));
      expect(item.Item?.['status']).toBe('archived');
    },
  );

  it('adds a chat to an archived file when a later job names it', async () => {
    const file = uploadedFileFactory();
    await stack.upstream.addFile(file);
    await stack.deliver([job(file.id)]);

    const { failed } = await stack.deliver([job(file.id, { chatId: 'claude_chat_01attachedLater' })]);

    expect(failed).toEqual([]);
    expect(
      (await stack.index.listChat('claude_chat_01attachedLater', 10, undefined)).items.map((r) => r.fileId),
    ).toEqual([file.id]);
  });

  it('repairs a missing chat listing when the file is delivered again', async () => {
    const file = generatedFileFactory();
    await stack.upstream.addFile(file);
    await stack.deliver([job(file.id)]);
    const listed = await stack.index.listChat(file.chatId, 10, undefined);
    expect(listed.items).toHaveLength(1);
    // As if the delivery had died between marking the file archived and writing its listing.
    await stack.aws.ddb.send(
      new DeleteCommand({
        TableName: stack.table,
        Key: {
          pk: chatPartition(file.chatId),
          sk: chatListingSortKey(canonicalTimestamp(file.createdAt) ?? '', file.id),
        },
      }),
    );
    expect((await stack.index.listChat(file.chatId, 10, undefined)).items).toEqual([]);

    const { failed } = await stack.deliver([job(file.id)]);

    expect(failed).toEqual([]);
    expect((await stack.index.listChat(file.chatId, 10, undefined)).items.map((r) => r.fileId)).toEqual([file.id]);
    expect(stack.upstream.requestCount(file.id, 'content')).toBe(1);
  });

  it('never writes the API key to the logs', () => {
    expect(stack.logs.length).toBeGreaterThan(10);
    expect(JSON.stringify([...onDisk.logs, ...fauxqs.logs])).not.toContain(TEST_UPSTREAM_API_KEY);
  });
});
