import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../shared/contracts/job.js';
import { objectKeyFor } from '../../shared/contracts/object-keys.js';
import { archiveFile } from '../../shared/ingest/archive-file.js';
import { IntegrityError, UpstreamHttpError, UpstreamTransportError } from '../../shared/platform/errors.js';
import { ingestHarness } from './fakes/ingest-harness.js';
import { generatedFile } from './fakes/scripted-upstream.js';

const GEN = 'claude_gen_file_01Evidence';
const CONTENT = Buffer.from('quarter,revenue\nq3,1350000\n');
const KEY = objectKeyFor('generated', GEN);
const md5Hex = (b: Buffer) => createHash('md5').update(b).digest('hex');
const OTHER_MD5 = md5Hex(Buffer.from('some other bytes'));

type Harness = ReturnType<typeof ingestHarness>;

const CHAT = 'claude_chat_01Unit';

function deliver(h: Harness, owner = 'delivery-1') {
  const parsed = parseJob(JSON.stringify({ fileId: GEN, chatId: CHAT }));
  if (!parsed.ok) throw new Error(parsed.reason);
  return archiveFile(
    parsed.job,
    'generated',
    { owner, receiveCount: 1, signal: new AbortController().signal },
    h.archive,
  );
}

describe('md5 and Content-MD5 disagree: the header is the authority (D2)', () => {
  it('archives bytes that match Content-MD5 and records the published md5 they do not match', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT, { md5Hex: OTHER_MD5 }));

    const outcome = await deliver(h);

    expect(outcome).toMatchObject({
      kind: 'archived',
      record: { md5: md5Hex(CONTENT), publishedMd5Mismatch: { metadataMd5: OTHER_MD5, contentMd5: md5Hex(CONTENT) } },
    });
    expect(await h.index.get(GEN)).toMatchObject({
      status: 'archived',
      publishedMd5Mismatch: { metadataMd5: OTHER_MD5, contentMd5: md5Hex(CONTENT) },
    });
    expect(h.store.commits(KEY)).toBe(1);
  });

  it('records no mismatch when the two agree', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT));
    expect((await deliver(h)).record).not.toHaveProperty('publishedMd5Mismatch');
  });

  it('still refuses bytes that do not match the metadata md5 when there is no Content-MD5 to go by', async () => {
    const h = ingestHarness();
    h.upstream.add({ ...generatedFile(GEN, CONTENT, { md5Hex: OTHER_MD5 }), contentMd5: null });
    await expect(deliver(h)).rejects.toMatchObject({ check: 'metadata-md5' });
    expect(h.store.commits(KEY)).toBe(0);
  });
});

describe('no size_bytes means "not known", not "expired" (D3)', () => {
  it('downloads a file upstream published no size for and archives it, verified by Content-MD5', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT, { sizeBytes: null }));

    const outcome = await deliver(h);

    expect(outcome).toMatchObject({ kind: 'archived', record: { sizeBytes: CONTENT.length, md5: md5Hex(CONTENT) } });
    expect(h.upstream.requests(GEN, 'content')).toBe(1);
    expect(h.store.latest(KEY)?.bytes.equals(CONTENT)).toBe(true);
  });

  it('refuses unsized bytes that do not match Content-MD5', async () => {
    const h = ingestHarness();
    h.upstream.add({
      ...generatedFile(GEN, CONTENT, { sizeBytes: null, md5Hex: null }),
      contentMd5: 'AAAAAAAAAAAAAAAAAAAAAA==',
    });
    await expect(deliver(h)).rejects.toMatchObject({ check: 'content-md5' });
    expect(h.store.commits(KEY)).toBe(0);
  });

  it('records the file expired only when its content answers 404', async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT, { sizeBytes: null }));
    h.upstream.fail(GEN, 'content', new UpstreamHttpError(404, 'not_found_error', 'req_gone', { retryable: false }));

    expect(await deliver(h)).toMatchObject({
      kind: 'unavailable',
      record: { reason: 'expired', sizeBytes: null, upstreamRequestId: 'req_gone' },
    });
  });

  it('cuts the download off past the cap, stores nothing and records the file failed (too_large)', async () => {
    const h = ingestHarness({ maxUnsizedBytes: 10 });
    h.upstream.add(generatedFile(GEN, CONTENT, { sizeBytes: null }));

    const outcome = await deliver(h);

    expect(outcome).toMatchObject({
      kind: 'failed',
      record: {
        status: 'failed',
        reason: 'too_large',
        detail: expect.stringContaining('10 bytes'),
        upstreamRequestId: 'req_content',
      },
    });
    expect(h.store.commits(KEY)).toBe(0);
  });
});

describe('the upstream request-id stays with every failure (D4)', () => {
  it('keeps the request-id of the content answer whose bytes failed a check on the pending record', async () => {
    const h = ingestHarness();
    h.upstream.add({ ...generatedFile(GEN, CONTENT), contentMd5: 'AAAAAAAAAAAAAAAAAAAAAA==' });

    const err = await deliver(h).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(IntegrityError);
    expect(await h.index.get(GEN)).toMatchObject({
      status: 'pending',
      lastError: expect.stringContaining('IntegrityError'),
      lastUpstreamRequestId: 'req_content',
    });
  });

  it('keeps the last upstream request-id when the final attempt failed before any answer', async () => {
    const h = ingestHarness({ maxAttempts: 1 });
    h.upstream.add(generatedFile(GEN, CONTENT));
    h.upstream.fail(
      GEN,
      'content',
      new UpstreamTransportError('upstream request failed (ECONNREFUSED)', 'ECONNREFUSED'),
    );

    await expect(deliver(h)).rejects.toBeInstanceOf(UpstreamTransportError);
    // The metadata answer was the last one upstream gave before the failure.
    expect(await h.index.get(GEN)).toMatchObject({
      lastError: expect.stringContaining('ECONNREFUSED'),
      lastUpstreamRequestId: 'req_metadata',
    });
  });

  it("keeps an error answer's own request-id", async () => {
    const h = ingestHarness();
    h.upstream.add(generatedFile(GEN, CONTENT));
    h.upstream.fail(
      GEN,
      'content',
      new UpstreamHttpError(400, 'invalid_request_error', 'req_400', { retryable: false }),
    );
    await expect(deliver(h)).rejects.toBeInstanceOf(UpstreamHttpError);
    expect(await h.index.get(GEN)).toMatchObject({ lastUpstreamRequestId: 'req_400' });
  });
});

describe('a record never carries evidence of an earlier status (D9)', () => {
  it(
    'drops reason, detail and recordedAt when a file recorded unavailable ' +
      'is archived, in the record and its listings',
    async () => {
      const h = ingestHarness();
      await deliver(h);
      expect(await h.index.get(GEN)).toMatchObject({ status: 'unavailable', reason: 'not_found' });
      expect((await h.index.listChat(CHAT, 10, undefined)).items).toMatchObject([
        { status: 'unavailable', reason: 'not_found' },
      ]);
      h.upstream.add(generatedFile(GEN, CONTENT));

      await deliver(h, 'delivery-2');

      const record = await h.index.get(GEN);
      expect(record).toMatchObject({ status: 'archived' });
      for (const stale of ['reason', 'detail', 'recordedAt', 'lastError', 'lastUpstreamRequestId'])
        expect(record).not.toHaveProperty(stale);
      const listed = (await h.index.listChat(CHAT, 10, undefined)).items;
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ status: 'archived' });
      for (const stale of ['reason', 'detail', 'recordedAt']) expect(listed[0]).not.toHaveProperty(stale);
    },
  );
});
