import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../shared/contracts/job.js';
import { objectKeyFor } from '../../shared/contracts/object-keys.js';
import { archiveFile } from '../../shared/ingest/archive-file.js';
import { UpstreamTransportError } from '../../shared/platform/errors.js';
import { ingestHarness, NOW_MS } from './fakes/ingest-harness.js';

const DOC = 'claude_proj_doc_01Unit';
const KEY = objectKeyFor('project_document', DOC);
const TEXT = '# Design notes\n\n- naïve café ✓\n- 日本語\n';
const BOB = { id: 'user_01bob', emailAddress: 'bob@example.com' };

function deliver(h: ReturnType<typeof ingestHarness>, body: object, owner = 'delivery-1') {
  const parsed = parseJob(JSON.stringify(body));
  if (!parsed.ok) throw new Error(parsed.reason);
  expect(parsed.source).toBe('project_document');
  return archiveFile(
    parsed.job,
    parsed.source,
    { owner, receiveCount: 1, signal: new AbortController().signal },
    h.archive,
  );
}

describe('archiving a project document', () => {
  it(
    'stores the UTF-8 bytes of its content, says upstream published ' +
      'no hash, and keeps our hashes and the request-id',
    async () => {
      const h = ingestHarness();
      h.upstream.addDocument({
        id: DOC,
        content: TEXT,
        filename: 'design-notes.txt',
        createdAt: '2025-03-12T18:22:41.123Z',
        creator: BOB,
      });
      const bytes = Buffer.from(TEXT, 'utf8');

      const outcome = await deliver(h, {
        fileId: DOC,
        provenance: { projectId: 'claude_proj_01p', organizationId: 'org_01acme', creator: null },
      });

      expect(outcome).toMatchObject({ kind: 'archived' });
      expect(h.store.latest(KEY)?.bytes.equals(bytes)).toBe(true);
      expect(await h.index.get(DOC)).toMatchObject({
        status: 'archived',
        source: 'project_document',
        chatIds: [],
        filename: 'design-notes.txt',
        mimeType: 'text/plain',
        sizeBytes: bytes.length,
        md5: createHash('md5').update(bytes).digest('hex'),
        sha256: createHash('sha256').update(bytes).digest('hex'),
        contentType: 'text/plain; charset=utf-8',
        upstreamHash: 'none',
        upstreamRequestId: 'req_document',
        createdAt: '2025-03-12T18:22:41.123Z',
        archivedAt: new Date(NOW_MS).toISOString(),
        // The document's own creator, over the project's creator the job carried.
        creator: BOB,
        projectId: 'claude_proj_01p',
        organizationId: 'org_01acme',
      });
    },
  );

  it('keeps the creator null where upstream says the document has none', async () => {
    const h = ingestHarness();
    h.upstream.addDocument({ id: DOC, content: '', filename: 'empty.txt', createdAt: null, creator: null });

    await deliver(h, { fileId: DOC, provenance: { creator: BOB } });

    expect(await h.index.get(DOC)).toMatchObject({ status: 'archived', sizeBytes: 0, creator: null });
  });

  it('records a document upstream answers 404 for as unavailable', async () => {
    const h = ingestHarness();

    expect(await deliver(h, { fileId: DOC, provenance: { projectId: 'claude_proj_01p' } })).toMatchObject({
      kind: 'unavailable',
      record: { status: 'unavailable', reason: 'not_found', source: 'project_document', projectId: 'claude_proj_01p' },
    });
    expect(h.store.latest(KEY)).toBeUndefined();
  });

  it('reads the document again after an answer that broke off, within the same delivery', async () => {
    const h = ingestHarness();
    h.upstream.addDocument({ id: DOC, content: TEXT, filename: 'd.txt', createdAt: null, creator: undefined });
    h.upstream.fail(
      DOC,
      'document',
      new UpstreamTransportError('the response body broke off (ECONNRESET)', 'ECONNRESET'),
    );

    expect(await deliver(h, { fileId: DOC })).toMatchObject({ kind: 'archived' });
    expect(h.upstream.requests(DOC, 'document')).toBe(2);
    expect(await h.index.get(DOC)).not.toHaveProperty('creator');
  });

  it(
    'records a document whose answer is larger than the unsized cap ' + 'as failed too_large, storing nothing',
    async () => {
      const h = ingestHarness();
      h.archive.maxUnsizedBytes = 64;
      h.upstream.addDocument({
        id: DOC,
        content: 'x'.repeat(100),
        filename: 'big.txt',
        createdAt: null,
        creator: null,
      });

      expect(await deliver(h, { fileId: DOC })).toMatchObject({ kind: 'failed', record: { reason: 'too_large' } });
      expect(h.store.latest(KEY)).toBeUndefined();
    },
  );
});
