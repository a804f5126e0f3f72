import { describe, expect, it } from 'vitest';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import { archivedRecord } from '../support/archived-record.js';
import type { Matter } from '../../shared/contracts/holds.js';
import { createEvidenceGatherer, holdsOf, MAX_TRAIL_EVENTS_PER_REPORT } from '../../shared/export/custody.js';
import type { CustodySources, FileTrailReader } from '../../shared/export/ports.js';
import { selects } from '../../shared/export/scope.js';
import type { TrailEvent } from '../../shared/lookup/access-trail.js';

const record: ArchivedRecord = archivedRecord({
  fileId: 'claude_file_01Unit',
  source: 'uploaded',
  chatIds: ['claude_chat_01A'],
  filename: 'a.txt',
  upstreamRequestId: 'req_1',
  key: 'k',
  archivedAt: '2026-02-01T00:00:00.000Z',
  creator: { id: 'user_01Ann', emailAddress: 'Ann@example.com' },
  projectId: null,
});

function matter(matterId: string, over: Partial<Matter>): Matter {
  return {
    matterId,
    reason: `why ${matterId}`,
    scope: { fileIds: [record.fileId] },
    status: 'active',
    placedBy: 'arn:lee',
    placedAt: '2026-01-01T00:00:00.000Z',
    progress: { action: 'place', page: 1, sent: true, scanned: 1, matched: 1, changed: 1, done: true, startedAt: '' },
    ...over,
  };
}

/** A trail of `count` events naming the file, newest first, served a page at a time by a numeric cursor. */
function fakeTrail(count: number): FileTrailReader & { limits: number[] } {
  const limits: number[] = [];
  return {
    limits,
    async page(_fileId, limit, cursor) {
      limits.push(limit);
      const start = cursor === undefined ? 0 : Number(cursor);
      const events: TrailEvent[] = [];
      for (let i = start; i < Math.min(count, start + limit); i++) {
        events.push({
          at: new Date(Date.UTC(2026, 0, 1) + (count - i) * 1000).toISOString(),
          eventId: `e${i}`,
          principal: 'arn:ann',
          action: 'GET /files/{fileId}',
          scope: {},
          status: 200,
          sourceIp: null,
          userAgent: null,
          requestId: null,
        });
      }
      const next = start + events.length;
      return next < count ? { events, cursor: String(next) } : { events };
    },
  };
}

function sources(trail: FileTrailReader, matters: Matter[] = []): CustodySources & { matterReads: number } {
  const s = {
    matterReads: 0,
    upstreamDeletions: async () => [],
    discoveryRuns: async () => [],
    matters: async () => {
      s.matterReads += 1;
      return matters;
    },
    trail,
  };
  return s;
}

describe('chain-of-custody evidence', () => {
  it(`keeps the newest ${MAX_TRAIL_EVENTS_PER_REPORT} trail events of a file read 10,000 times`, async () => {
    const trail = fakeTrail(10_000);
    const evidence = await createEvidenceGatherer(sources(trail))(record);
    expect(evidence.accessTrail.total).toBe(10_000);
    expect(evidence.accessTrail.events).toHaveLength(MAX_TRAIL_EVENTS_PER_REPORT);
    // The newest first: the first page's first event, in order.
    expect(evidence.accessTrail.events[0]?.at).toBe(new Date(Date.UTC(2026, 0, 1) + 10_000_000).toISOString());
    // Every page is bounded, whatever the trail's length: memory holds one page beside the kept events.
    expect(Math.max(...trail.limits)).toBeLessThanOrEqual(500);
    expect(trail.limits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10_000);
  });

  it('keeps every event of a short trail', async () => {
    const evidence = await createEvidenceGatherer(sources(fakeTrail(3)))(record);
    expect(evidence.accessTrail.total).toBe(3);
    expect(evidence.accessTrail.events.map((e) => e.principal)).toEqual(['arn:ann', 'arn:ann', 'arn:ann']);
  });

  it('reads the matters once per gatherer (one run), not once per file', async () => {
    const s = sources(fakeTrail(0), [matter('M-1', {})]);
    const gather = createEvidenceGatherer(s);
    for (let i = 0; i < 5; i++) await gather(record);
    expect(s.matterReads).toBe(1);
  });

  it("lists the record's hold marks, then matters whose scope covered the version before their release", () => {
    const held: ArchivedRecord = {
      ...record,
      legalHolds: {
        'M-mark': {
          matterId: 'M-mark',
          placedBy: 'arn:lee',
          placedAt: '2026-02-02T00:00:00.000Z',
          reason: 'r',
          via: 'ingest',
        },
        'M-gone': {
          matterId: 'M-gone',
          placedBy: 'arn:lee',
          placedAt: '2026-02-02T00:00:00.000Z',
          reason: 'r',
          via: 'matter',
        },
      },
    };
    const matters = new Map(
      [
        matter('M-mark', {}),
        // Released after the file was archived: it held the version, its mark was removed at release.
        matter('M-before', { status: 'released', releasedBy: 'arn:lee', releasedAt: '2026-03-01T00:00:00.000Z' }),
        // Released before the file was archived: it never held this version.
        matter('M-after', { status: 'released', releasedBy: 'arn:lee', releasedAt: '2026-01-15T00:00:00.000Z' }),
        // Another file's matter.
        matter('M-other', { scope: { fileIds: ['claude_file_01Other'] } }),
        // By the creator's email, any case (the hold rules).
        matter('M-email', { scope: { users: ['ann@EXAMPLE.com'] } }),
      ].map((m) => [m.matterId, m]),
    );
    const holds = holdsOf(held, matters);
    expect(holds.map((h) => [h.matterId, h.basis, h.heldNow, h.matterStatus])).toEqual([
      ['M-gone', 'record', true, 'unknown'],
      ['M-mark', 'record', true, 'active'],
      ['M-before', 'scope', false, 'released'],
      ['M-email', 'scope', false, 'active'],
    ]);
    expect(holds[1]).toMatchObject({ heldVia: 'ingest', heldAt: '2026-02-02T00:00:00.000Z', placedBy: 'arn:lee' });
    expect(holds[2]).toMatchObject({ releasedAt: '2026-03-01T00:00:00.000Z', heldAt: null });
  });
});

describe('what an export selects', () => {
  const matterScope = { users: ['user_01Ann'], chats: ['claude_chat_01Other'] };

  it("takes a matter's files under the hold rules (any of its lists), narrowed by an export scope (all of it)", () => {
    expect(selects(record, { matter: { matterId: 'M', scope: matterScope } })).toBe(true);
    expect(
      selects(record, { matter: { matterId: 'M', scope: matterScope }, scope: { chats: ['claude_chat_01A'] } }),
    ).toBe(true);
    expect(
      selects(record, { matter: { matterId: 'M', scope: matterScope }, scope: { projects: ['claude_proj_01X'] } }),
    ).toBe(false);
    // The same lists as an export scope must all hold: the file is in no claude_chat_01Other.
    expect(selects(record, { scope: matterScope })).toBe(false);
  });
});
