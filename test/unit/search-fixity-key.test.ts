import { describe, expect, it } from 'vitest';
import type { ArchivedRecord, FileRecord } from '../../shared/contracts/file-records.js';
import { archivedRecord } from '../support/archived-record.js';
import { FIXITY_FAILED_KEY, SEARCH_INDEXES, searchAttributesOf } from '../../shared/contracts/search-index.js';

// The failed-fixity search key (sFixity) as every write of the file item derives it: present only while
// the latest check failed, removed from any record that is not archived, and left alone by a write whose
// record does not carry the fixity summary (ingest's finish, which leaves the stored summary too).
const archived: ArchivedRecord = archivedRecord({
  fileId: 'claude_file_01Key',
  source: 'uploaded',
  filename: 'a.txt',
  key: 'k',
  archivedAt: '2026-02-01T00:00:00.000Z',
});
const summary = (status: 'passed' | 'failed') => ({
  status,
  lastCheckedAt: '2026-12-01T00:00:00.000Z',
  lastTier: 'cheap' as const,
  checks: 2,
});

describe('the failed-fixity search key', () => {
  it('is an index of its own, keyed by sFixity and sorted by the search time', () => {
    expect(SEARCH_INDEXES.fixity).toEqual({ name: 'search-fixity', partitionKey: 'sFixity', sortKey: 'searchAt' });
  });

  it('is set while the latest check failed, and removed once one passes', () => {
    const failed = searchAttributesOf({ ...archived, fixity: summary('failed') }, archived.archivedAt);
    expect(failed.set.sFixity).toBe(FIXITY_FAILED_KEY);
    expect(failed.remove).not.toContain('sFixity');
    const passed = searchAttributesOf({ ...archived, fixity: summary('passed') }, archived.archivedAt);
    expect(passed.set.sFixity).toBeUndefined();
    expect(passed.remove).toContain('sFixity');
  });

  it('is left as stored by a write whose archived record carries no fixity summary', () => {
    const update = searchAttributesOf(archived, archived.archivedAt);
    expect(update.set.sFixity).toBeUndefined();
    expect(update.remove).not.toContain('sFixity');
  });

  it('is removed from a record that is not archived', () => {
    const failed: FileRecord = {
      status: 'failed',
      fileId: 'claude_file_01Key',
      source: 'uploaded',
      chatIds: [],
      filename: null,
      mimeType: null,
      sizeBytes: null,
      createdAt: null,
      upstreamRequestId: null,
      reason: 'dead_lettered',
      detail: 'x',
      upstreamErrorType: null,
      upstreamStatus: null,
      failedAt: '2026-02-01T00:00:00.000Z',
    };
    expect(searchAttributesOf(failed, '2026-02-01T00:00:00.000Z').remove).toContain('sFixity');
  });
});
