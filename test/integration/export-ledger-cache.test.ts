/**
 * The export's discovery-run reader (DynamoDbDiscoveryRuns) against dynalite: it answers exactly what
 * the plain per-file Queries (discoveryRunsFor) answer, for any file, while reading one ledger page
 * per source for all the files archived between the same two poller runs.
 */
import fc from 'fast-check';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable } from '../../local/aws/resources.js';
import { POLLER_SOURCES } from '../../shared/contracts/discovery-ledger.js';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import { DISCOVERY_KEYS } from '../../shared/contracts/table-keys.js';
import { DynamoDbDiscoveryRuns, discoveryRunsFor } from '../../shared/index/dynamodb-export-jobs.js';
import { localAwsFromInject, uniqueName } from '../support/local-aws.js';
import type { LocalAwsFixture } from '../support/local-aws.js';

let aws: LocalAwsFixture;
let table: string;
const DAY = Date.parse('2025-06-02T00:00:00.000Z');
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** Counts the Queries a client sends, so that a test can see what the cache saved. */
function counting(doc: DynamoDBDocumentClient): { doc: DynamoDBDocumentClient; queries: () => number } {
  let queries = 0;
  const send = doc.send.bind(doc) as (command: unknown) => Promise<unknown>;
  const wrapped = new Proxy(doc, {
    get(target, key, receiver) {
      if (key !== 'send') return Reflect.get(target, key, receiver);
      return (command: { constructor: { name: string } }) => {
        if (command.constructor.name === 'QueryCommand') queries += 1;
        return send(command);
      };
    },
  });
  return { doc: wrapped, queries: () => queries };
}

function fileArchivedAt(archivedMs: number, createdMs: number | null): ArchivedRecord {
  return { archivedAt: iso(archivedMs), createdAt: createdMs === null ? null : iso(createdMs) } as ArchivedRecord;
}

beforeAll(async () => {
  aws = localAwsFromInject();
  table = uniqueName('ledger-cache');
  await ensureTable(aws.ddb, table);
  // A day of poller runs: the first source every 7 minutes (more than a page of 50), the second every
  // 90 minutes, the others none. Each run lasts 3 minutes.
  const every: number[] = [7, 90];
  for (const [i, source] of POLLER_SOURCES.entries()) {
    const step = every[i];
    if (step === undefined) continue;
    for (let start = DAY; start < DAY + 24 * 60 * MINUTE; start += step * MINUTE) {
      const runId = `run-${source}-${start}`;
      await aws.ddb.send(
        new PutCommand({
          TableName: table,
          Item: {
            pk: DISCOVERY_KEYS.ledgerPartition(source),
            sk: DISCOVERY_KEYS.ledgerSortKey(iso(start), runId),
            source,
            runId,
            startedAt: iso(start),
            endedAt: iso(start + 3 * MINUTE),
            ending: 'completed',
            windowStart: null,
            windowEnd: null,
            lastRequestId: null,
          },
        }),
      );
    }
  }
}, 120_000);

afterAll(() => {
  aws.destroy();
});

describe('the discovery runs of an export', () => {
  it('are, from the cached reader, exactly those the per-file Queries find, for files in any order', async () => {
    // Archived from an hour before the first run to an hour after the last; created up to a day before.
    const file = fc
      .tuple(fc.integer({ min: -60, max: 25 * 60 }), fc.option(fc.integer({ min: 0, max: 24 * 60 })))
      .map(([archived, createdBefore]) =>
        fileArchivedAt(
          DAY + archived * MINUTE,
          createdBefore === null ? null : DAY + (archived - createdBefore) * MINUTE,
        ),
      );
    await fc.assert(
      fc.asyncProperty(fc.array(file, { minLength: 1, maxLength: 12 }), async (files) => {
        const cached = new DynamoDbDiscoveryRuns(aws.ddb, table);
        // Asked for at once, as the export's look-ahead does, then once more one by one.
        const together = await Promise.all(files.map((f) => cached.runsFor(f)));
        for (const [i, f] of files.entries()) {
          const plain = await discoveryRunsFor(aws.ddb, table, f);
          expect(together[i]).toEqual(plain);
          expect(await cached.runsFor(f)).toEqual(plain);
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('reads one page per source for the files archived between two runs, and again after its time', async () => {
    const { doc, queries } = counting(aws.ddb);
    let now = 0;
    const cached = new DynamoDbDiscoveryRuns(doc, table, 60_000, 32, () => now);
    // Between the first source's runs at 07:00 and 07:07 (and the second's at 06:00 and 07:30), asked for
    // at once as the look-ahead does: the latest bound's page covers the others, which wait for it.
    const between = [6, 5, 4, 3, 2, 1].map((m) => fileArchivedAt(DAY + (7 * 60 + m) * MINUTE, DAY));
    const runs = await Promise.all(between.map((f) => cached.runsFor(f)));
    expect(queries()).toBe(POLLER_SOURCES.length);
    for (const r of runs) expect(r.map((run) => run.runId)).toEqual(runs[0]?.map((run) => run.runId));
    expect(runs[0]?.[0]?.startedAt).toBe(iso(DAY + 7 * 60 * MINUTE));
    // A bound above every page read so far needs new pages; one between 07:07 and it does not.
    await cached.runsFor(fileArchivedAt(DAY + (7 * 60 + 8) * MINUTE, DAY));
    expect(queries()).toBe(2 * POLLER_SOURCES.length);
    const runsAt0707 = await cached.runsFor(fileArchivedAt(DAY + (7 * 60 + 7.5) * MINUTE, DAY));
    expect(queries()).toBe(2 * POLLER_SOURCES.length);
    expect(runsAt0707[0]?.startedAt).toBe(iso(DAY + (7 * 60 + 7) * MINUTE));
    // A minute later the pages are read again: a run recorded meanwhile is not missed for long.
    now = 60_000;
    await cached.runsFor(between[0] as ArchivedRecord);
    expect(queries()).toBe(3 * POLLER_SOURCES.length);
  });
});
