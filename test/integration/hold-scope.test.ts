/**
 * A matter's scope, end to end on dynalite and fauxqs through the ingest handler and the lookup API:
 * - the sweep reads a scope of lists through the search indexes, a chat's listings and the file
 *   items, never a Scan (every SDK call the handler makes is recorded), and holds exactly the
 *   files in scope, once each, whatever number of selectors reach a file;
 * - a window alone walks the month index; only a window open at its start is a Scan;
 * - a file archived later is held at ingest by every kind of scope: a user by id and by email, a
 *   project, a period (and a file outside every scope is not held).
 * The legal hold's S3 side (Object Lock on the RADOS Gateway) is test/integration/legal-holds.test.ts;
 * here fauxqs has no Object Lock, so the holds are the records' entries.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callLookup } from '../support/lookup-call.js';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import type { HoldScope, Matter } from '../../shared/contracts/holds.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { matterItemKey } from '../../shared/contracts/table-keys.js';
import { DynamoDbHeldFiles } from '../../shared/index/dynamodb-holds.js';
import { createIngestStack, type IngestStack } from '../support/ingest-stack.js';
import { createRecordedLookup } from '../support/recorded-lookup.js';
import { generatedFileFactory, randomIdBody } from '../support/upstream.js';

const ADMIN = 'arn:aws:sts::111122223333:assumed-role/legal-admin/counsel@example.com';
const user = (name: string) => ({ id: `user_01${name}${randomIdBody()}`, emailAddress: `${name}@Example.com` });
const alice = user('Alice');
const bob = user('Bob');
const carol = user('Carol');
const projectP = `claude_proj_${randomIdBody()}`;
const chatX = `claude_chat_${randomIdBody()}`;
const chatZ = `claude_chat_${randomIdBody()}`;

interface Seed {
  file: ReturnType<typeof generatedFileFactory>;
  creator: { id: string; emailAddress: string };
  projectId?: string;
}
const seed = (chatId: string, createdAt: string, creator: Seed['creator'], projectId?: string): Seed => ({
  file: generatedFileFactory({ chatId, createdAt, content: Buffer.from(`${chatId} ${createdAt}\n`) }),
  creator,
  ...(projectId ? { projectId } : {}),
});
const files = {
  a1: seed(chatX, '2026-01-10T09:00:00.000Z', alice, projectP),
  a2: seed(`claude_chat_${randomIdBody()}`, '2026-03-10T09:00:00.000Z', alice),
  b1: seed(chatZ, '2026-01-20T09:00:00.000Z', bob, projectP),
  b2: seed(chatZ, '2026-02-15T09:00:00.000Z', bob),
  c1: seed(`claude_chat_${randomIdBody()}`, '2025-12-01T09:00:00.000Z', carol),
};

let stack: IngestStack;
let lookup: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

function call(method: string, resource: string, opts: { path?: Record<string, string>; body?: unknown } = {}) {
  return callLookup(lookup, ADMIN, method, resource, { ...opts, callerId: 'AROAEXAMPLE:counsel' });
}

/** Places a matter and runs the queue through the ingest handler until its sweep is done. */
async function place(matterId: string, scope: HoldScope): Promise<Matter> {
  const placed = await call('POST', '/holds', { body: { matterId, reason: `Matter ${matterId}`, scope } });
  expect(placed.status, JSON.stringify(placed.json)).toBe(202);
  for (let round = 0; round < 80; round++) {
    const matter = (await call('GET', '/holds/{matterId}', { path: { matterId } })).json as unknown as Matter;
    if (matter.progress.done) return matter;
    const messages = await stack.receiveAny();
    if (messages.length > 0) expect((await stack.invoke(messages)).failed).toEqual([]);
  }
  throw new Error(`the sweep of ${matterId} did not finish`);
}

const record = async (s: Seed | { file: { id: string } }) => (await stack.index.get(s.file.id)) as ArchivedRecord;
const heldBy = async (matterId: string) => {
  const out: string[] = [];
  for (const [name, s] of Object.entries(files)) if ((await record(s)).legalHolds?.[matterId]) out.push(name);
  return out;
};
const job = (s: Seed) =>
  serializeJob({
    fileId: s.file.id,
    chatId: s.file.chatId,
    provenance: { creator: s.creator, ...(s.projectId ? { projectId: s.projectId } : {}) },
  });

beforeAll(async () => {
  // Two index items a message: every sweep below takes several pages, chained through the queue.
  stack = await createIngestStack({ holdPageSize: 2 });
  lookup = await createRecordedLookup(stack);
  for (const s of Object.values(files)) await stack.upstream.addFile(s.file);
  expect((await stack.deliver(Object.values(files).map(job))).failed).toEqual([]);
  for (const s of Object.values(files)) expect((await record(s)).status).toBe('archived');
});
afterAll(async () => {
  await stack?.close();
});

describe('a sweep reads its scope through the indexes', () => {
  it('holds every file a list selects, once each, through index queries and file reads, never a Scan', async () => {
    const before = stack.sdkCalls.length;
    const matter = await place('S-1', {
      users: [alice.emailAddress.toUpperCase()],
      projects: [projectP],
      chats: [chatX],
      fileIds: [files.b2.file.id],
    });
    expect(await heldBy('S-1')).toEqual(['a1', 'a2', 'b1', 'b2']);
    // a1 is reached three times (its creator's email, its project, its chat) and held once.
    expect(matter.progress).toMatchObject({ action: 'place', done: true, changed: 4 });
    expect(matter.progress.page).toBeGreaterThan(2);
    const a1 = (await record(files.a1)).legalHolds?.['S-1'];
    expect(a1).toMatchObject({ matterId: 'S-1', placedBy: ADMIN, via: 'matter' });

    const calls = stack.sdkCalls.slice(before);
    expect(calls.map((c) => c.command)).not.toContain('ScanCommand');
    const indexes = new Set(calls.filter((c) => c.command === 'QueryCommand').map((c) => c.indexName ?? 'table'));
    expect(indexes).toEqual(new Set(['search-creator-email', 'search-project', 'table']));
    // Items read: the files each selector names (a1 three times, the rest once), not the table.
    expect(matter.progress.scanned).toBe(6);
  });

  it('selects a user by id, narrowed by the window, and releases through the same reads', async () => {
    const before = stack.sdkCalls.length;
    await place('S-2', { users: [bob.id], from: '2026-02-01T00:00:00.000Z' });
    expect(await heldBy('S-2')).toEqual(['b2']);
    expect((await call('DELETE', '/holds/{matterId}', { path: { matterId: 'S-2' } })).status).toBe(202);
    for (let round = 0; round < 40; round++) {
      const m = (await call('GET', '/holds/{matterId}', { path: { matterId: 'S-2' } })).json as unknown as Matter;
      if (m.progress.done) {
        expect(m.progress).toMatchObject({ action: 'release', matched: 1, changed: 1 });
        break;
      }
      const messages = await stack.receiveAny();
      if (messages.length > 0) expect((await stack.invoke(messages)).failed).toEqual([]);
    }
    expect(await heldBy('S-2')).toEqual([]);
    expect(stack.sdkCalls.slice(before).map((c) => c.command)).not.toContain('ScanCommand');
  });

  it('walks the month index for a window alone; a window open at its start is the one Scan', async () => {
    let before = stack.sdkCalls.length;
    const january = await place('W-1', { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' });
    expect(await heldBy('W-1')).toEqual(['a1', 'b1']);
    expect(january.progress).toMatchObject({ done: true, matched: 2, changed: 2, scanned: 2 });
    let calls = stack.sdkCalls.slice(before);
    expect(calls.map((c) => c.command)).not.toContain('ScanCommand');
    expect(calls.filter((c) => c.indexName === 'search-month').length).toBeGreaterThan(0);

    before = stack.sdkCalls.length;
    await place('W-2', { to: '2026-01-01T00:00:00.000Z' });
    expect(await heldBy('W-2')).toEqual(['c1']);
    calls = stack.sdkCalls.slice(before);
    expect(calls.map((c) => c.command)).toContain('ScanCommand');
  });

  it('dead-letters a hold-work message whose cursor it did not write, and ignores one past the last page', async () => {
    const done = (await call('GET', '/holds/{matterId}', { path: { matterId: 'S-1' } })).json as unknown as Matter;
    const forgedKey = { pk: 'FILE#x', sk: 'FILE', sEmail: 'mallory@example.com', searchAt: '2026-01-01T00:00:00.000Z' };
    const forged = JSON.stringify({
      v: 1,
      kind: 'hold-work',
      matterId: 'S-1',
      action: 'place',
      page: done.progress.page,
      cursor: Buffer.from(JSON.stringify({ s: 0, k: forgedKey })).toString('base64url'),
    });
    // Past the last page: skipped without reading anything.
    const before = stack.sdkCalls.length;
    const past = JSON.stringify({
      v: 1,
      kind: 'hold-work',
      matterId: 'S-1',
      action: 'place',
      page: done.progress.page,
    });
    expect((await stack.deliver([past])).failed).toEqual([]);
    expect(stack.sdkCalls.slice(before).filter((c) => c.command === 'QueryCommand')).toEqual([]);
    expect((await call('GET', '/holds/{matterId}', { path: { matterId: 'S-1' } })).json).toEqual(done);
    // Reopen the sweep's page to let the forged cursor be read: it is refused, not followed.
    await stack.aws.ddb.send(
      new UpdateCommand({
        TableName: stack.table,
        Key: matterItemKey('S-1'),
        UpdateExpression: 'SET progress.done = :f',
        ExpressionAttributeValues: { ':f': false },
      }),
    );
    expect((await stack.deliver([forged])).failed).toEqual([]);
    const dead = await stack.deadLetters();
    expect(dead.map((m) => m.Body)).toContain(forged);
    expect(JSON.stringify(dead.find((m) => m.Body === forged)?.MessageAttributes)).toContain('hold-work cursor');
    await stack.aws.ddb.send(
      new UpdateCommand({
        TableName: stack.table,
        Key: matterItemKey('S-1'),
        UpdateExpression: 'SET progress.done = :t',
        ExpressionAttributeValues: { ':t': true },
      }),
    );
  });

  it('writes a matter\u2019s entry only where the record has none: a second reach keeps the first', async () => {
    const held = new DynamoDbHeldFiles(stack.aws.ddb, stack.table);
    const entry = { matterId: 'E-1', placedBy: ADMIN, reason: 'r', via: 'matter' as const };
    const first = await held.addHold(files.c1.file.id, { ...entry, placedAt: '2026-12-01T00:00:00.000Z' });
    const second = await held.addHold(files.c1.file.id, { ...entry, placedAt: '2026-12-02T00:00:00.000Z' });
    expect(first?.added).toBe(true);
    expect(second?.added).toBe(false);
    expect((await record(files.c1)).legalHolds?.['E-1']?.placedAt).toBe('2026-12-01T00:00:00.000Z');
    // Its chat listing, a copy of the record, says the same.
    const listing = await stack.index.listChat(files.c1.file.chatId, 10, undefined);
    expect((listing.items[0] as ArchivedRecord).legalHolds?.['E-1']?.placedAt).toBe('2026-12-01T00:00:00.000Z');
  });
});

describe('a file archived later is held at ingest by every kind of scope', () => {
  const dave = user('Dave');
  const erin = user('Erin');
  const frank = user('Frank');
  const projectQ = `claude_proj_${randomIdBody()}`;
  const late = {
    byId: seed(`claude_chat_${randomIdBody()}`, '2026-06-01T09:00:00.000Z', dave),
    byEmail: seed(`claude_chat_${randomIdBody()}`, '2026-06-01T09:00:00.000Z', erin),
    byProject: seed(`claude_chat_${randomIdBody()}`, '2026-06-01T09:00:00.000Z', frank, projectQ),
    byPeriod: seed(`claude_chat_${randomIdBody()}`, '2027-01-15T09:00:00.000Z', frank),
    outside: seed(`claude_chat_${randomIdBody()}`, '2026-06-01T09:00:00.000Z', frank, `claude_proj_${randomIdBody()}`),
  };

  it('holds each new file for exactly the matters whose scope selects it', async () => {
    await place('I-ID', { users: [dave.id] });
    await place('I-EMAIL', { users: ['erin@example.COM'] });
    await place('I-PROJECT', { projects: [projectQ] });
    await place('I-PERIOD', { from: '2027-01-01T00:00:00.000Z', to: '2027-02-01T00:00:00.000Z' });

    for (const s of Object.values(late)) await stack.upstream.addFile(s.file);
    const before = stack.sdkCalls.length;
    expect((await stack.deliver(Object.values(late).map(job))).failed).toEqual([]);
    // No sweep ran: the files were held as they were archived.
    expect(stack.sdkCalls.slice(before).map((c) => c.command)).not.toContain('ScanCommand');

    const mattersOf = async (s: Seed) => Object.keys((await record(s)).legalHolds ?? {}).sort();
    expect(await mattersOf(late.byId)).toEqual(['I-ID']);
    expect(await mattersOf(late.byEmail)).toEqual(['I-EMAIL']);
    expect(await mattersOf(late.byProject)).toEqual(['I-PROJECT']);
    expect(await mattersOf(late.byPeriod)).toEqual(['I-PERIOD']);
    expect(await mattersOf(late.outside)).toEqual([]);
    expect((await record(late.byEmail)).legalHolds?.['I-EMAIL']).toMatchObject({ placedBy: ADMIN, via: 'ingest' });
  });

  it('holds a copy already archived that a later job brings into scope (its creator learned, a new chat)', async () => {
    const gina = user('Gina');
    const known = seed(`claude_chat_${randomIdBody()}`, '2026-06-02T09:00:00.000Z', gina);
    const chatB = `claude_chat_${randomIdBody()}`;
    await stack.upstream.addFile(known.file);
    // Archived first from a job that carried no provenance: the record has no creator yet.
    expect((await stack.deliver([serializeJob({ fileId: known.file.id, chatId: known.file.chatId })])).failed).toEqual(
      [],
    );
    await place('I-LATE-USER', { users: [gina.id] });
    await place('I-LATE-CHAT', { chats: [chatB] });
    expect((await record(known)).legalHolds).toBeUndefined();

    // Discovery sees it again with its creator, then listed in chat B: no download, but now in scope.
    expect((await stack.deliver([job(known)])).failed).toEqual([]);
    expect(Object.keys((await record(known)).legalHolds ?? {})).toEqual(['I-LATE-USER']);
    expect((await stack.deliver([serializeJob({ fileId: known.file.id, chatId: chatB })])).failed).toEqual([]);
    const r = await record(known);
    expect(Object.keys(r.legalHolds ?? {}).sort()).toEqual(['I-LATE-CHAT', 'I-LATE-USER']);
    expect(r.legalHolds?.['I-LATE-CHAT']).toMatchObject({ placedBy: ADMIN, via: 'ingest' });
    // Its listing in chat B, written by the same job, shows both holds.
    const listing = await stack.index.listChat(chatB, 10, undefined);
    expect(Object.keys((listing.items[0] as ArchivedRecord).legalHolds ?? {}).sort()).toEqual([
      'I-LATE-CHAT',
      'I-LATE-USER',
    ]);
  });
});
