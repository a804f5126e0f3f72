import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { contentDisposition } from '../../shared/archive/content-disposition.js';
import { parseJob } from '../../shared/contracts/job.js';
import type { IngestJob } from '../../shared/contracts/job.js';
import type { FileSource } from '../../shared/contracts/ids.js';
import { objectKeyFor } from '../../shared/contracts/object-keys.js';
import { archiveFile, carriedMetadata } from '../../shared/ingest/archive-file.js';
import {
  ClaimHeldError,
  IntegrityError,
  UpstreamHttpError,
  UpstreamTransportError,
} from '../../shared/platform/errors.js';
import { ingestHarness, NOW_MS } from './fakes/ingest-harness.js';
import { generatedFile } from './fakes/scripted-upstream.js';

const GEN = 'claude_gen_file_01Unit';
const CHAT = 'claude_chat_01Unit';
const OTHER_CHAT = 'claude_chat_01Other';
const CONTENT = Buffer.from('quarter,revenue\nq3,1350000\n');
const KEY = objectKeyFor('generated', GEN);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function job(body: object): IngestJob {
  const parsed = parseJob(JSON.stringify(body));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.job;
}

function deliver(
  h: ReturnType<typeof ingestHarness>,
  body: object,
  owner = 'delivery-1',
  source: FileSource = 'generated',
) {
  return archiveFile(job(body), source, { owner, receiveCount: 1, signal: new AbortController().signal }, h.archive);
}

describe('archiveFile', () => {
  it(
    'archives a file: verified bytes under the id-derived key, the ' + 'evidence recorded and listed under its chats',
    async () => {
      const h = ingestHarness();
      h.upstream.add(generatedFile(GEN, CONTENT, { filename: '../q3 (final).csv', chatIds: [CHAT] }));

      const outcome = await deliver(h, { fileId: GEN, chatId: OTHER_CHAT });

      expect(outcome).toMatchObject({ kind: 'archived', metadataRequested: true });
      expect(h.store.latest(KEY)?.bytes.equals(CONTENT)).toBe(true);
      expect(h.store.latest(KEY)?.metadata).toEqual({
        'file-id': GEN,
        source: 'generated',
        filename: '.._q3%20%28final%29.csv',
      });
      const record = await h.index.get(GEN);
      expect(record).toMatchObject({
        status: 'archived',
        chatIds: [CHAT, OTHER_CHAT].sort(),
        filename: '../q3 (final).csv',
        sizeBytes: CONTENT.length,
        sha256: sha256(CONTENT),
        crc32: Buffer.from(crc32(CONTENT).toString(16).padStart(8, '0'), 'hex').toString('base64'),
        bucket: h.store.bucket,
        key: KEY,
        versionId: 'v1',
        contentType: 'text/csv',
        contentDisposition: contentDisposition('../q3 (final).csv'),
        upstreamRequestId: 'req_content',
        archivedAt: new Date(NOW_MS).toISOString(),
      });
      expect(h.index.items.get(GEN)?.['leaseOwner']).toBeUndefined();
      for (const chat of [CHAT, OTHER_CHAT])
        expect((await h.index.listChat(chat, 10, undefined)).items.map((r) => r.fileId)).toEqual([GEN]);
      expect(h.upstream.discarded).toBe(1);
    },
  );

  it('skips the metadata request when the job carries all of it', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT));
    const md5 = createHash('md5').update(CONTENT).digest('hex');
    const file = {
      filename: 'a.csv',
      md5,
      mime_type: 'text/csv',
      size_bytes: CONTENT.length,
      created_at: '2026-01-01T00:00:00Z',
    };
    expect(await deliver(h, { fileId: GEN, chatId: CHAT, file })).toMatchObject({
      kind: 'archived',
      metadataRequested: false,
    });
    expect(h.upstream.requests(GEN, 'metadata')).toBe(0);
  });

  /** A delivery that claimed the file, committed `bytes` and died before indexing: its lease has run out. */
  async function crashedAfterCommit(h: ReturnType<typeof ingestHarness>, bytes: Buffer): Promise<void> {
    const claimedAt = NOW_MS - 2 * h.archive.leaseMs;
    expect(await h.index.claim(GEN, 'generated', 'crashed-delivery', claimedAt, h.archive.leaseMs)).toMatchObject({
      kind: 'claimed',
      attempts: 1,
    });
    h.store.leaveBehind(KEY, bytes);
  }

  it('does not look for an earlier object on the first claim of a file: no delivery can have written one', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT));

    expect(await deliver(h, { fileId: GEN })).toMatchObject({ kind: 'archived', record: { versionId: 'v1' } });
    expect(h.store.readBacks).toBe(0);
    expect(h.store.commits(KEY)).toBe(1);
  });

  it(
    'adopts the object a crashed delivery committed but never indexed, ' + 'without downloading or writing again',
    async () => {
      const h = ingestHarness();
      h.upstream.add(generatedFile(GEN, CONTENT));
      await crashedAfterCommit(h, CONTENT);

      const outcome = await deliver(h, { fileId: GEN });

      expect(outcome).toMatchObject({
        kind: 'archived',
        record: { versionId: 'v1', sha256: sha256(CONTENT), upstreamRequestId: 'req_metadata' },
      });
      expect(h.upstream.requests(GEN, 'content')).toBe(0);
      expect(h.store.readBacks).toBe(1);
      expect(h.store.commits(KEY)).toBe(1);
      expect(
        h.logs.some(
          (l) =>
            l.message === 'adopted an object committed by an earlier delivery' && l.attributes['versionId'] === 'v1',
        ),
      ).toBe(true);
    },
  );

  it('writes a new version over a left-behind object whose bytes do not match upstream', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT));
    await crashedAfterCommit(h, Buffer.from('something else'));

    expect(await deliver(h, { fileId: GEN })).toMatchObject({ kind: 'archived', record: { versionId: 'v2' } });
    expect(h.store.commits(KEY)).toBe(2);
    expect(h.logs.find((l) => l.level === 'error')?.message).toBe(
      'an object at the archive key does not match upstream; writing a new version',
    );
  });

  it(
    'records a file upstream answers 404 for as unavailable: no size, ' + 'not downloadable, listed under the job chat',
    async () => {
      const h = ingestHarness();
      const outcome = await deliver(h, { fileId: GEN, chatId: CHAT, file: { filename: 'gone.txt' } });

      expect(outcome.kind).toBe('unavailable');
      expect(await h.index.get(GEN)).toMatchObject({
        status: 'unavailable',
        reason: 'not_found',
        sizeBytes: null,
        filename: 'gone.txt',
        chatIds: [CHAT],
        upstreamRequestId: 'req_metadata_404',
        detail: expect.stringContaining('404'),
      });
      expect((await h.index.listChat(CHAT, 10, undefined)).items.map((r) => r.status)).toEqual(['unavailable']);
      expect(h.upstream.requests(GEN, 'content')).toBe(0);
      expect(h.store.commits(KEY)).toBe(0);
    },
  );

  it('keeps the metadata of a file whose content answers 404', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT));
    h.upstream.fail(GEN, 'content', new UpstreamHttpError(404, 'not_found_error', 'req_c404', { retryable: false }));
    await deliver(h, { fileId: GEN });
    expect(await h.index.get(GEN)).toMatchObject({
      status: 'unavailable',
      reason: 'not_found',
      filename: 'report.csv',
      sizeBytes: CONTENT.length,
      upstreamRequestId: 'req_c404',
    });
  });

  it('records a Files API file that is not downloadable, without asking for its content', async () => {
    const h = ingestHarness();
    h.upstream.add(
      generatedFile('file_01Unit', CONTENT, { source: 'files_api', chatIds: [], md5Hex: null, downloadable: false }),
    );
    expect(await deliver(h, { fileId: 'file_01Unit' }, 'delivery-1', 'files_api')).toMatchObject({
      kind: 'unavailable',
      record: { reason: 'not_downloadable', detail: 'upstream marks the file as not downloadable' },
    });
    expect(h.upstream.requests('file_01Unit', 'content')).toBe(0);
  });

  it('releases the claim on failure, recording why, so the next delivery need not wait for the lease', async () => {
    const h = ingestHarness();
    h.upstream.add({ ...generatedFile(GEN, CONTENT), contentMd5: 'AAAAAAAAAAAAAAAAAAAAAA==' });

    await expect(deliver(h, { fileId: GEN })).rejects.toBeInstanceOf(IntegrityError);

    expect(await h.index.get(GEN)).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: expect.stringMatching(/^IntegrityError: integrity check failed: content-md5/),
    });
    expect(h.store.commits(KEY)).toBe(0);
    expect(await h.index.claim(GEN, 'generated', 'delivery-2', NOW_MS, 1_000)).toEqual({
      kind: 'claimed',
      attempts: 2,
    });
  });

  it("keeps only the name of another library's error in the record", async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT));
    h.store.failNextWrite = Object.assign(new Error('User arn:aws:sts::123:assumed-role/x is not authorized'), {
      name: 'AccessDenied',
    });
    await expect(deliver(h, { fileId: GEN })).rejects.toThrow('not authorized');
    expect(await h.index.get(GEN)).toMatchObject({ lastError: 'AccessDenied' });
  });

  it('still throws the failure when releasing the claim fails, and logs the release failure', async () => {
    const h = ingestHarness();
    h.upstream.fail(GEN, 'metadata', new UpstreamTransportError('upstream request failed', 'ECONNREFUSED'));
    h.archive.maxAttempts = 1;
    h.index.release = () => Promise.reject(new Error('table gone'));
    await expect(deliver(h, { fileId: GEN })).rejects.toBeInstanceOf(UpstreamTransportError);
    expect(h.logs.find((l) => l.message === 'could not release the claim')?.attributes).toMatchObject({
      error: 'Error: table gone',
    });
  });

  it('defers to the delivery holding the claim until its lease can have ended', async () => {
    const h = ingestHarness();
    await h.index.claim(GEN, 'generated', 'another-delivery', NOW_MS, 30_000);
    const err = await deliver(h, { fileId: GEN }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClaimHeldError);
    expect((err as ClaimHeldError).retryAfterMs).toBe(30_000);
    expect(h.upstream.requests(GEN, 'metadata')).toBe(0);
  });

  it('waits at least a second for a lease about to end', async () => {
    const h = ingestHarness();
    await h.index.claim(GEN, 'generated', 'another-delivery', NOW_MS, 10);
    await expect(deliver(h, { fileId: GEN })).rejects.toMatchObject({ retryAfterMs: 1_000 });
  });

  it('acknowledges a duplicate without downloading, adding the new chat to the record and its listings', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT, { chatIds: [CHAT] }));
    await deliver(h, { fileId: GEN });

    const outcome = await deliver(h, { fileId: GEN, chatId: OTHER_CHAT }, 'delivery-2');

    expect(outcome).toMatchObject({ kind: 'duplicate', record: { chatIds: [CHAT, OTHER_CHAT].sort() } });
    expect(h.upstream.requests(GEN, 'metadata')).toBe(1);
    expect(h.upstream.requests(GEN, 'content')).toBe(1);
    expect((await h.index.listChat(OTHER_CHAT, 10, undefined)).items.map((r) => r.fileId)).toEqual([GEN]);
  });

  const ALICE = { id: 'user_01alice', emailAddress: 'alice@example.com' };

  it('records the provenance the job carries: creator, organization, project and message ids', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT, { chatIds: [CHAT] }));
    const provenance = {
      creator: ALICE,
      organizationId: 'org_01acme',
      projectId: 'claude_proj_01p',
      messageIds: ['claude_chat_msg_01b', 'claude_chat_msg_01a'],
    };

    await deliver(h, { fileId: GEN, chatId: CHAT, provenance });

    const expected = { ...provenance, messageIds: ['claude_chat_msg_01a', 'claude_chat_msg_01b'] };
    expect(await h.index.get(GEN)).toMatchObject({ status: 'archived', ...expected });
    // The chat's listing is a copy of the record: an auditor listing the chat sees who and where too.
    expect((await h.index.listChat(CHAT, 10, undefined)).items[0]).toMatchObject(expected);
  });

  it('records the provenance on a file upstream says is gone, too', async () => {
    const h = ingestHarness();
    h.upstream.fail(GEN, 'metadata', new UpstreamHttpError(404, 'not_found_error', 'req_m404', { retryable: false }));

    await deliver(h, { fileId: GEN, chatId: CHAT, provenance: { creator: null, organizationId: 'org_01acme' } });

    expect(await h.index.get(GEN)).toMatchObject({
      status: 'unavailable',
      creator: null,
      organizationId: 'org_01acme',
    });
  });

  it(
    'gives a file archived before provenance was kept its provenance ' + 'when seen again, without downloading',
    async () => {
      const h = ingestHarness();
      h.upstream.add(generatedFile(GEN, CONTENT, { chatIds: [CHAT] }));
      await deliver(h, { fileId: GEN, chatId: CHAT });
      expect(await h.index.get(GEN)).not.toHaveProperty('creator');

      const outcome = await deliver(
        h,
        {
          fileId: GEN,
          chatId: CHAT,
          provenance: { creator: ALICE, projectId: null, messageIds: ['claude_chat_msg_01a'] },
        },
        'delivery-2',
      );
      await deliver(
        h,
        { fileId: GEN, chatId: CHAT, provenance: { messageIds: ['claude_chat_msg_01c'] } },
        'delivery-3',
      );

      expect(outcome).toMatchObject({ kind: 'duplicate', record: { creator: ALICE, projectId: null } });
      expect(await h.index.get(GEN)).toMatchObject({
        creator: ALICE,
        projectId: null,
        messageIds: ['claude_chat_msg_01a', 'claude_chat_msg_01c'],
      });
      expect(h.upstream.requests(GEN, 'content')).toBe(1);
      expect((await h.index.listChat(CHAT, 10, undefined)).items[0]).toMatchObject({ creator: ALICE });
    },
  );

  it('downloads again from byte 0 after a body that broke mid-stream, within the same delivery', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT));
    h.upstream.fail(
      GEN,
      'content',
      new UpstreamTransportError('the response body broke off (ECONNRESET)', 'ECONNRESET'),
    );
    expect(await deliver(h, { fileId: GEN })).toMatchObject({ kind: 'archived' });
    expect(h.upstream.requests(GEN, 'content')).toBe(2);
    expect(h.sleeps).toEqual([500]);
    expect(h.store.commits(KEY)).toBe(1);
  });
});

describe('carried metadata', () => {
  const complete = {
    filename: 'a.txt',
    md5: null,
    mime_type: 'text/plain',
    size_bytes: 3,
    created_at: '2026-01-01T00:00:00Z',
  };

  it('skips the metadata request only with a chat id and every field present', () => {
    expect(
      carriedMetadata(job({ fileId: 'claude_gen_file_a', chatId: 'claude_chat_c', file: complete }), 'generated'),
    ).toMatchObject({
      chatIds: ['claude_chat_c'],
      sizeBytes: 3,
      md5Hex: null,
    });
    expect(carriedMetadata(job({ fileId: 'claude_gen_file_a', file: complete }), 'generated')).toBeUndefined();
    const { created_at: _omitted, ...partial } = complete;
    expect(
      carriedMetadata(job({ fileId: 'claude_gen_file_a', chatId: 'claude_chat_c', file: partial }), 'generated'),
    ).toBeUndefined();
  });

  it('always asks the Files API, whose metadata says whether a file is downloadable', () => {
    expect(
      carriedMetadata(job({ fileId: 'file_a', chatId: 'claude_chat_c', file: complete }), 'files_api'),
    ).toBeUndefined();
  });
});
