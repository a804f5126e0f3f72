import type { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { batchGetItems, BatchGetIncompleteError } from '../../shared/index/dynamodb-batch-get.js';

type Key = { pk: string; sk: string };
type Request = {
  Keys: Key[];
  ConsistentRead?: boolean;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
};

/**
 * A fake of the document client's `send` for BatchGetItem: every stored key answers with its item,
 * except that `unprocess(keys, call)` may hold some back as UnprocessedKeys, as DynamoDB does under
 * throttling. Only the branch real local servers cannot provoke with projected reads (dynalite holds
 * keys back only past ~1 MB of response) is tested here; the rest runs against dynalite.
 */
function fakeDoc(unprocess: (keys: Key[], call: number) => Key[]) {
  const requests: Request[] = [];
  return {
    requests,
    async send(command: BatchGetCommand) {
      const req = command.input.RequestItems?.['t'] as Request;
      requests.push(req);
      const held = unprocess(req.Keys, requests.length);
      const served = req.Keys.filter((k) => !held.includes(k));
      // The echoed KeysAndAttributes drop the projection, as dynalite does: the retry must not rely on it.
      return {
        Responses: { t: served.map((k) => ({ pk: k.pk, status: 'archived' })) },
        UnprocessedKeys: held.length ? { t: { Keys: held } } : {},
      };
    },
  };
}

const keys = (n: number): Key[] => Array.from({ length: n }, (_, i) => ({ pk: `FILE#f${i}`, sk: 'FILE' }));
const opts = {
  projection: { expression: 'pk, #status', names: { '#status': 'status' } },
  consistentRead: false,
  baseBackoffMs: 1,
};

describe('batchGetItems', () => {
  it('asks at most 100 keys a request', async () => {
    const doc = fakeDoc(() => []);
    const items = await batchGetItems(doc as never, 't', keys(250), opts);
    expect(items).toHaveLength(250);
    expect(doc.requests.map((r) => r.Keys.length)).toEqual([100, 100, 50]);
  });

  it(
    'asks again for exactly the unprocessed keys, with the same projection ' + 'and consistency, until all are read',
    async () => {
      const all = keys(100);
      // Two rounds of throttling: 40 keys held back, then 10 of those.
      const doc = fakeDoc((ks, call) => (call === 1 ? ks.slice(60) : call === 2 ? ks.slice(30) : []));
      const items = await batchGetItems(doc as never, 't', all, opts);
      expect(items.map((i) => i['pk']).sort()).toEqual(all.map((k) => k.pk).sort());
      expect(doc.requests.map((r) => r.Keys.length)).toEqual([100, 40, 10]);
      expect(doc.requests[1]?.Keys).toEqual(all.slice(60));
      for (const r of doc.requests) {
        expect(r).toMatchObject({
          ConsistentRead: false,
          ProjectionExpression: 'pk, #status',
          ExpressionAttributeNames: { '#status': 'status' },
        });
      }
    },
  );

  it('fails, naming how many keys are missing, rather than report unread items as absent', async () => {
    const doc = fakeDoc((ks) => ks.slice(0, 3));
    await expect(batchGetItems(doc as never, 't', keys(5), { ...opts, maxAttempts: 4 })).rejects.toEqual(
      new BatchGetIncompleteError(3),
    );
    expect(doc.requests).toHaveLength(4);
  });

  it('stops waiting between attempts when its signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('deadline');
    const doc = fakeDoc((ks) => {
      controller.abort(reason);
      return ks;
    });
    await expect(
      batchGetItems(doc as never, 't', keys(2), { ...opts, baseBackoffMs: 60_000, signal: controller.signal }),
    ).rejects.toBe(reason);
    expect(doc.requests).toHaveLength(1);
  });
});
