import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import { archivedRecord } from '../support/archived-record.js';
import { HoldScopeSchema, inScope, MAX_SCOPE_ENTRIES, PlaceHoldRequestSchema } from '../../shared/contracts/holds.js';
import type { HoldWork } from '../../shared/contracts/holds.js';
import { activeMattersOnce } from '../../shared/holds/hold-at-ingest.js';
import { processHoldWork, releaseOne } from '../../shared/holds/hold-work.js';
import { placeMatter, releaseMatter } from '../../shared/holds/matters.js';
import { createLookupHandler } from '../../shared/lookup/lookup-http.js';
import { MemoryArchiveStore } from './fakes/memory-archive-store.js';
import { MemoryFileIndex } from './fakes/memory-file-index.js';
import { memoryHoldWork, memoryMatterDeps, unusedFixity } from './fakes/memory-holds.js';
import { recordingTelemetry } from './fakes/recording-telemetry.js';
import { MemoryAccessTrail, RecordingSearchIndex } from './fakes/memory-access-trail.js';

const CHAT = 'claude_chat_01Scope';
const signal = new AbortController().signal;

function archived(n: number, overrides: Partial<ArchivedRecord> = {}): ArchivedRecord {
  return archivedRecord({
    fileId: `claude_gen_file_${String(n).padStart(4, '0')}`,
    chatIds: [CHAT],
    filename: `f${n}.txt`,
    key: `archive/generated/claude_gen_file_${n}`,
    versionId: `v${n}`,
    ...overrides,
  });
}

describe('hold scope', () => {
  const file = archived(1, {
    creator: { id: 'user_01A', emailAddress: 'Ana@Example.com' },
    projectId: 'claude_proj_01P',
  });

  it('selects a file matching any list: a creator by id or email (any case), a chat, a project, a file id', () => {
    const scope = (s: unknown) => HoldScopeSchema.parse(s);
    expect(inScope(file, scope({ users: ['user_01A'] }))).toBe(true);
    expect(inScope(file, scope({ users: ['ana@example.com'] }))).toBe(true);
    expect(inScope(file, scope({ chats: [CHAT] }))).toBe(true);
    expect(inScope(file, scope({ projects: ['claude_proj_01P'] }))).toBe(true);
    expect(inScope(file, scope({ fileIds: [file.fileId] }))).toBe(true);
    expect(inScope(file, scope({ users: ['user_01B'], chats: ['claude_chat_other'] }))).toBe(false);
    // Without provenance on the record, a users or projects scope cannot select it.
    expect(inScope(archived(2), scope({ users: ['user_01A'], projects: ['claude_proj_01P'] }))).toBe(false);
  });

  it('narrows by the creation time, [from, to), and with no list selects every file in the window', () => {
    const scope = (s: unknown) => HoldScopeSchema.parse(s);
    expect(inScope(file, scope({ chats: [CHAT], from: '2026-01-10T00:00:00Z' }))).toBe(true);
    expect(inScope(file, scope({ chats: [CHAT], to: '2026-01-10T00:00:00Z' }))).toBe(false);
    expect(inScope(file, scope({ from: '2026-01-01T00:00:00+02:00', to: '2026-02-01T00:00:00Z' }))).toBe(true);
    expect(inScope(file, scope({ from: '2026-01-11T00:00:00Z' }))).toBe(false);
    // No upstream creation time: the archive time stands in.
    expect(inScope(archived(3, { createdAt: null }), scope({ from: '2026-01-11T00:00:00Z' }))).toBe(true);
  });

  it('refuses an empty scope, a reversed window, an unknown field and a list over the limit', () => {
    const ids = Array.from({ length: MAX_SCOPE_ENTRIES + 1 }, (_, i) => `claude_chat_${i}`);
    for (const bad of [
      {},
      { chats: [] },
      { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
      { chats: [CHAT], everything: true },
      { chats: ids },
      { chats: ['../etc'] },
      { users: ['a b'] },
    ]) {
      expect(HoldScopeSchema.safeParse(bad).success, JSON.stringify(bad).slice(0, 80)).toBe(false);
    }
  });
});

describe('hold work', () => {
  function setup(files: ArchivedRecord[], opts: { otherItems?: number; pageSize?: number } = {}) {
    const { deps, held, legalHolds, work } = memoryHoldWork(files, opts);
    /** Delivers every queued message (in order, each once) until none is left. */
    const drain = async () => {
      let delivered = 0;
      while (deps.work.sent.length > delivered) {
        const { body } = deps.work.sent[delivered++] ?? { body: '' };
        await processHoldWork(JSON.parse(body) as HoldWork, work, signal);
      }
    };
    return { deps, held, legalHolds, work, drain };
  }

  it('counts each page once however often its message is delivered, and forks no second sweep', async () => {
    const files = [1, 2, 3, 4, 5].map((n) => archived(n));
    const { deps, legalHolds, work } = setup(files);
    await placeMatter({ matterId: 'M', reason: 'r', scope: { chats: [CHAT] } }, 'arn:admin', deps, signal);
    // Every message delivered twice, the duplicate right after the original.
    for (let i = 0; i < deps.work.sent.length; i++) {
      const message = JSON.parse(deps.work.sent[i]?.body ?? '') as HoldWork;
      await processHoldWork(message, work, signal);
      await processHoldWork(message, work, signal);
    }
    const matter = await deps.matters.get('M');
    expect(matter?.progress).toMatchObject({ done: true, scanned: 5, matched: 5, changed: 5, page: 3 });
    // One message per page: the duplicates sent nothing.
    expect(deps.work.sent.map((s) => (JSON.parse(s.body) as HoldWork).page)).toEqual([0, 1, 2]);
    expect([...legalHolds.status.values()].filter(Boolean)).toHaveLength(5);
  });

  it('sends the next page again when the delivery that checkpointed a page died before sending it', async () => {
    const { deps, work, drain } = setup(
      [1, 2, 3].map((n) => archived(n)),
      { pageSize: 1 },
    );
    await placeMatter({ matterId: 'M', reason: 'r', scope: { chats: [CHAT] } }, 'arn:admin', deps, signal);
    const first = JSON.parse(deps.work.sent[0]?.body ?? '') as HoldWork;
    deps.work.failNext = new Error('queue unavailable');
    await expect(processHoldWork(first, work, signal)).rejects.toThrow('queue unavailable');
    expect((await deps.matters.get('M'))?.progress).toMatchObject({ page: 1, sent: false });
    // The redelivery finds its page done and its successor unsent: it sends it, and the sweep goes on.
    await processHoldWork(first, work, signal);
    await drain();
    expect((await deps.matters.get('M'))?.progress).toMatchObject({ done: true, matched: 3 });
  });

  it(
    'turns a version off only when its last matter is released, and ' + 'on again if a matter came in between',
    async () => {
      const { deps, held, legalHolds, drain } = setup([archived(1), archived(2)]);
      await placeMatter({ matterId: 'A', reason: 'r', scope: { chats: [CHAT] } }, 'arn:admin', deps, signal);
      await placeMatter(
        { matterId: 'B', reason: 'r', scope: { fileIds: [archived(1).fileId] } },
        'arn:admin',
        deps,
        signal,
      );
      await drain();
      await releaseMatter('A', 'arn:admin', deps, signal);
      await drain();
      expect(legalHolds.status.get('archive/generated/claude_gen_file_1@v1')).toBe(true);
      expect(legalHolds.status.get('archive/generated/claude_gen_file_2@v2')).toBe(false);
      expect((await deps.matters.get('A'))?.progress).toMatchObject({ action: 'release', done: true, changed: 2 });

      // A matter placed while the last one is being released: the release sees the record empty, turns
      // the hold off, reads the record again and turns it back on.
      const r2 = (await held.getArchived(archived(2).fileId)) as ArchivedRecord;
      await held.addHold(r2.fileId, { matterId: 'C', placedBy: 'x', placedAt: 't', reason: 'r', via: 'matter' });
      const racing = {
        files: {
          ...held,
          scanArchived: held.scanArchived.bind(held),
          addHold: held.addHold.bind(held),
          getArchived: held.getArchived.bind(held),
          // D is recorded right after C's removal left the record empty.
          removeHold: async (fileId: string, matterId: string) => {
            const after = await held.removeHold(fileId, matterId);
            await held.addHold(fileId, { matterId: 'D', placedBy: 'x', placedAt: 't', reason: 'r', via: 'matter' });
            return after;
          },
        },
        legalHolds,
      };
      legalHolds.calls.length = 0;
      await releaseOne(r2, 'C', racing, signal);
      expect(legalHolds.calls.map((c) => c.on)).toEqual([false, true]);
      expect(legalHolds.status.get('archive/generated/claude_gen_file_2@v2')).toBe(true);
    },
  );

  it('drops the remaining pages of a place sweep once the matter is released', async () => {
    const { deps, work } = setup([1, 2, 3, 4].map((n) => archived(n)));
    await placeMatter({ matterId: 'M', reason: 'r', scope: { chats: [CHAT] } }, 'arn:admin', deps, signal);
    const first = JSON.parse(deps.work.sent[0]?.body ?? '') as HoldWork;
    await releaseMatter('M', 'arn:admin', deps, signal);
    expect(await processHoldWork(first, work, signal)).toMatchObject({ kind: 'skipped' });
  });

  it('reads the active matters once per invocation, and again after a failed read', async () => {
    let reads = 0;
    let fail = true;
    const once = activeMattersOnce({
      list: async () => {
        reads++;
        if (fail) throw new Error('throttled');
        return [];
      },
    });
    await expect(once()).rejects.toThrow('throttled');
    fail = false;
    await once();
    await once();
    expect(reads).toBe(2);
  });
});

describe('hold routes over HTTP', () => {
  function handler() {
    const holds = memoryMatterDeps({ releaseDelaySeconds: 900 });
    const telemetry = recordingTelemetry();
    const lookup = createLookupHandler({
      index: new MemoryFileIndex(),
      discovery: {
        listLedger: async () => ({ runs: [], nextCursor: undefined }),
        getUpstreamDeletions: async () => [],
      },
      downloads: new MemoryArchiveStore(),
      search: new RecordingSearchIndex(),
      trail: new MemoryAccessTrail(),
      presignTtlSeconds: 300,
      holds,
      fixity: unusedFixity(),
      log: telemetry.log,
    });
    const call = (method: string, resource: string, body: string | null, path: Record<string, string> | null = null) =>
      lookup({
        httpMethod: method,
        resource,
        path: resource,
        pathParameters: path,
        queryStringParameters: null,
        body,
        isBase64Encoded: false,
        requestContext: { requestId: 'r', identity: { userArn: 'arn:aws:iam::1:user/counsel' } },
      } as unknown as APIGatewayProxyEvent);
    return { holds, call };
  }

  it('places a matter as the caller, queues its first page, and releases it with the release delay', async () => {
    const { holds, call } = handler();
    const placed = await call(
      'POST',
      '/holds',
      JSON.stringify({ matterId: 'M-1', reason: 'r', scope: { chats: [CHAT] } }),
    );
    expect(placed.statusCode).toBe(202);
    expect(JSON.parse(placed.body)).toMatchObject({
      placedBy: 'arn:aws:iam::1:user/counsel',
      progress: { sent: true },
    });
    const released = await call('DELETE', '/holds/{matterId}', null, { matterId: 'M-1' });
    expect(released.statusCode).toBe(202);
    expect(holds.work.sent.map((s) => s.delaySeconds)).toEqual([0, 900]);
    expect((await call('DELETE', '/holds/{matterId}', null, { matterId: 'M-2' })).statusCode).toBe(404);
  });

  it('answers a placement whose send failed again with the stored matter, and queues it then', async () => {
    const { holds, call } = handler();
    const body = JSON.stringify({ matterId: 'M-1', reason: 'r', scope: { chats: [CHAT] } });
    holds.work.failNext = new Error('queue unavailable');
    expect((await call('POST', '/holds', body)).statusCode).toBe(500);
    const retried = await call('POST', '/holds', body);
    expect(retried.statusCode).toBe(200);
    expect(holds.work.sent).toHaveLength(1);
  });

  it('answers any body with a 2xx or a 4xx JSON error, never a 5xx (fuzzed)', async () => {
    const { call } = handler();
    const bodies = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .record({
          matterId: fc.oneof(fc.string(), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/)),
          reason: fc.string(),
          scope: fc.oneof(
            fc.anything(),
            fc.record(
              {
                chats: fc.array(fc.oneof(fc.string(), fc.constant(CHAT))),
                users: fc.array(fc.string()),
                from: fc.oneof(
                  fc.string(),
                  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
                ),
                to: fc.string(),
              },
              { requiredKeys: [] },
            ),
          ),
        })
        .map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const res = await call('POST', '/holds', body);
        expect(res.statusCode < 500, `${res.statusCode} ${res.body}`).toBe(true);
        if (res.statusCode >= 400) expect(JSON.parse(res.body)).toMatchObject({ error: { type: expect.any(String) } });
      }),
      { numRuns: 300 },
    );
    expect(PlaceHoldRequestSchema.safeParse({}).success).toBe(false);
  });

  it('refuses a missing body and a body that is not JSON with 400, and an oversized one with 413', async () => {
    const { call } = handler();
    for (const body of [null, '{']) {
      const res = await call('POST', '/holds', body);
      expect(res.statusCode).toBe(400);
    }
    expect((await call('POST', '/holds', 'x'.repeat(300 * 1024))).statusCode).toBe(413);
  });
});
