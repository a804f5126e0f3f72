import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureReplayTable } from '../../local/webhook-setup.js';
import { DynamoDbReplayGuard } from '../../shared/index/dynamodb-replay-guard.js';
import { createDocumentClient } from '../../shared/platform/aws-clients.js';
import { localAwsFromInject, uniqueName, type LocalAwsFixture } from '../support/local-aws.js';
import { recordCallsOf } from '../support/permissions/aws-call-recorder.js';

// The replay guard on dynalite, which never expires items: every window and lease below ends by the
// clock alone, proving the code does not depend on DynamoDB's TTL deleting anything.
let aws: LocalAwsFixture;
let table: string;
/** The guard's client: its calls are checked as the webhook role's (the test's own reads use aws.ddb). */
let doc: DynamoDBDocumentClient;
const RETENTION_SECONDS = 3600;
const LEASE_MS = 60_000;
const T0 = Date.parse('2026-03-01T12:00:00Z');
const outcome = {
  fileIds: ['file_01a'],
  chats: [{ chatId: 'claude_chat_01c', jobs: 2 }],
  chatsNotFound: [],
  reason: 'why',
};
let n = 0;
const nextId = () => `msg_guard_${++n}_${Date.now()}`;

beforeAll(async () => {
  aws = localAwsFromInject();
  table = uniqueName('replays');
  await ensureReplayTable(aws.ddb, table);
  doc = recordCallsOf(createDocumentClient({ endpoint: aws.dynamodbEndpoint, region: aws.region }), 'webhook', {
    tables: { [table]: 'webhookReplayTable' },
  });
});
afterAll(() => {
  doc.destroy();
  aws.destroy();
});

const guard = () => new DynamoDbReplayGuard(doc, table, { retentionSeconds: RETENTION_SECONDS, leaseMs: LEASE_MS });

describe('DynamoDbReplayGuard', () => {
  it('answers a processed id with its outcome until the window ends, then lets it be processed again', async () => {
    const id = nextId();
    const claim = await guard().claim(id, T0);
    if (claim.kind !== 'claimed') throw new Error('expected a claim');
    await guard().complete(id, claim.token, outcome, T0 + 1_000);
    expect(await guard().claim(id, T0 + 2_000)).toEqual({ kind: 'duplicate', outcome });
    expect(await guard().claim(id, T0 + 1_000 + RETENTION_SECONDS * 1000)).toEqual({ kind: 'duplicate', outcome });
    // The item is still there (no TTL on dynalite); the stored expiry alone decides.
    expect((await guard().claim(id, T0 + 2_000 + RETENTION_SECONDS * 1000)).kind).toBe('claimed');
  });

  it('stores the TTL attribute as Unix seconds at the end of the window', async () => {
    const id = nextId();
    await guard().claim(id, T0);
    const { Item } = await aws.ddb.send(new GetCommand({ TableName: table, Key: { webhookId: id } }));
    expect(Item?.['expiresAt']).toBe(Math.floor(T0 / 1000) + RETENTION_SECONDS);
  });

  it('reports a live claim as in progress, and lets a delivery take over once its lease has ended', async () => {
    const id = nextId();
    const first = await guard().claim(id, T0);
    expect(await guard().claim(id, T0 + 10_000)).toEqual({ kind: 'in_progress', retryAfterSeconds: 50 });
    const second = await guard().claim(id, T0 + LEASE_MS + 1);
    expect(second.kind).toBe('claimed');
    if (first.kind !== 'claimed' || second.kind !== 'claimed') throw new Error('expected claims');
    // The abandoned delivery finishing late cannot overwrite the live claim (fencing token).
    await guard().complete(id, first.token, { ...outcome, fileIds: ['file_01late'] }, T0 + LEASE_MS + 2);
    expect((await guard().claim(id, T0 + LEASE_MS + 3)).kind).toBe('in_progress');
    await guard().complete(id, second.token, outcome, T0 + LEASE_MS + 4);
    expect(await guard().claim(id, T0 + LEASE_MS + 5)).toEqual({ kind: 'duplicate', outcome });
  });

  it('lets a released id be claimed again at once', async () => {
    const id = nextId();
    const claim = await guard().claim(id, T0);
    if (claim.kind !== 'claimed') throw new Error('expected a claim');
    await guard().release(id, claim.token, T0 + 1);
    expect((await guard().claim(id, T0 + 2)).kind).toBe('claimed');
  });

  it('gives one of two simultaneous deliveries the claim and the other "in progress"', async () => {
    const id = nextId();
    const results = await Promise.all([guard().claim(id, T0), guard().claim(id, T0)]);
    expect(results.map((r) => r.kind).sort()).toEqual(['claimed', 'in_progress']);
  });
});
