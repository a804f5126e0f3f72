import { describe, expect, it } from 'vitest';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import type { FixityEvent } from '../../shared/contracts/fixity.js';
import { MAX_FIXITY_EVENTS } from '../../shared/contracts/fixity.js';
import { appendEvent, checkCopy } from '../../shared/fixity/check-copy.js';
import type { StoredCopies } from '../../shared/fixity/check-copy.js';

const record: ArchivedRecord = {
  status: 'archived',
  fileId: 'claude_gen_file_01Fix',
  source: 'generated',
  chatIds: [],
  filename: 'f.txt',
  mimeType: 'text/plain',
  sizeBytes: 10,
  createdAt: null,
  upstreamRequestId: null,
  md5: 'a'.repeat(32),
  sha256: 'b'.repeat(64),
  crc32: 'AAAAAA==',
  bucket: 'b',
  key: 'archive/generated/claude_gen_file_01Fix',
  versionId: 'v1',
  contentType: 'text/plain',
  contentDisposition: 'attachment',
  archivedAt: '2026-01-01T00:00:00.000Z',
};
const now = () => Date.parse('2026-03-01T00:00:00Z');
const copies = (
  head: Awaited<ReturnType<StoredCopies['head']>>,
  digest?: Awaited<ReturnType<StoredCopies['digest']>>,
) => ({
  head: async () => head,
  digest: async () => digest ?? { kind: 'missing' as const },
});

describe('fixity checks of one copy', () => {
  it('cheap: fails on a CRC-32 or a size that differs from the record, and names both', async () => {
    const event = await checkCopy(record, 'cheap', {
      copies: copies({ kind: 'found', sizeBytes: 11, crc32: 'BBBBBB==' }),
      now,
    });
    expect(event).toMatchObject({ eventType: 'fixity check', outcome: 'failed', tier: 'cheap', versionId: 'v1' });
    expect(event.detail).toBe('size 11 != recorded 10; CRC-32 BBBBBB== != recorded AAAAAA==');
  });

  it('cheap: passes naming what it compared, and does not claim a checksum S3 did not return', async () => {
    const full = await checkCopy(record, 'cheap', {
      copies: copies({ kind: 'found', sizeBytes: 10, crc32: 'AAAAAA==' }),
      now,
    });
    expect(full).toMatchObject({ outcome: 'passed', detail: 'version, size and full-object CRC-32 match the record' });
    const bare = await checkCopy(record, 'cheap', {
      copies: copies({ kind: 'found', sizeBytes: 10, crc32: undefined }),
      now,
    });
    expect(bare.detail).toBe('version and size (S3 returned no full-object CRC-32) match the record');
  });

  it('deep: fails on a digest that differs, and on a missing version', async () => {
    const changed = await checkCopy(record, 'deep', {
      copies: copies(
        { kind: 'missing' },
        { kind: 'found', sizeBytes: 10, md5Hex: record.md5, sha256Hex: 'c'.repeat(64) },
      ),
      now,
    });
    expect(changed).toMatchObject({
      outcome: 'failed',
      detail: `SHA-256 ${'c'.repeat(64)} != recorded ${record.sha256}`,
    });
    const gone = await checkCopy(record, 'deep', { copies: copies({ kind: 'missing' }), now });
    expect(gone.detail).toMatch(/^the archived version is missing/);
  });

  it('keeps the newest events only', () => {
    const e = (n: number) => ({ at: String(n) }) as FixityEvent;
    let events: FixityEvent[] = [];
    for (let n = 0; n < MAX_FIXITY_EVENTS + 3; n++) events = appendEvent(events, e(n));
    expect(events.map((x) => x.at)).toEqual(Array.from({ length: MAX_FIXITY_EVENTS }, (_, i) => String(i + 3)));
  });
});
