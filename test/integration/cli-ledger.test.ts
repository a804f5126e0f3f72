import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerRecord, PollerSource } from '../../shared/contracts/discovery-ledger.js';
import { DynamoDbDiscoveryStore } from '../../shared/index/dynamodb-discovery-store.js';
import { createCliStack } from '../support/cli-stack.js';
import type { CliStack } from '../support/cli-stack.js';

// `archiver ledger` reads the discovery ledger through the lookup API's ledger route, as an auditor
// would, and reports the breaks in each poller's chain of runs.
let stack: CliStack;
const minute = 60_000;

function run(
  source: PollerSource,
  i: number,
  cursorStart: string | null,
  cursorEnd: string | null,
  ending: LedgerRecord['ending'] = 'completed',
): LedgerRecord {
  const startedMs = Date.now() - (10 - i) * minute;
  return {
    source,
    runId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    startedAt: new Date(startedMs).toISOString(),
    endedAt: new Date(startedMs + 5_000).toISOString(),
    ending,
    cursorStart,
    cursorEnd,
    pages: 1,
    records: 3,
    invalidRecords: 0,
    jobsEnqueued: 2,
    windowStart: new Date(startedMs).toISOString(),
    windowEnd: new Date(startedMs + 5_000).toISOString(),
    lastRequestId: `req_${i}`,
    error: null,
  };
}

beforeAll(async () => {
  stack = await createCliStack({ ingest: false });
  const store = new DynamoDbDiscoveryStore(stack.aws.ddb, stack.table);
  // chats: runs 1→2→3 chain, then run 4 starts from a cursor nobody ended at.
  for (const r of [
    run('chats', 1, null, 'c1'),
    run('chats', 2, 'c1', 'c2'),
    run('chats', 3, 'c2', 'c3', 'deadline'),
    run('chats', 4, 'c7', 'c8'),
  ])
    await store.putLedger(r);
  // files_api: an unbroken chain (a finished walk starts again from the top).
  for (const r of [
    run('files_api', 1, null, null),
    run('files_api', 2, null, 'f1', 'deadline'),
    run('files_api', 3, 'f1', null),
  ])
    await store.putLedger(r);
});

afterAll(async () => {
  await stack.close();
});

describe('archiver ledger', () => {
  it('reports a broken cursor chain as a gap and exits 3', async () => {
    const res = await stack.run(['ledger', '--since', '30m', '--source', 'chats', '--json']);
    expect(res.code).toBe(3);
    const body = JSON.parse(res.stdout) as {
      sources: { source: string; runs: unknown[]; gaps: { kind: string; detail: string }[] }[];
      gaps: number;
    };
    expect(body.gaps).toBe(1);
    expect(body.sources[0]?.runs).toHaveLength(4);
    expect(body.sources[0]?.gaps).toEqual([
      expect.objectContaining({
        kind: 'cursor_break',
        detail: 'run started from cursor c7 but the previous run ended at c3',
      }),
    ]);
    expect(res.stderr.trim()).toBe('archiver: found 1 gap(s) in the discovery ledger');
  });

  it('exits 0 for an unbroken chain, and lists the runs with --runs', async () => {
    const res = await stack.run(['ledger', '--since', '30m', '--source', 'files_api', '--runs']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('no gaps: every run starts where the one before it ended');
    expect(res.stdout).toContain('f1 → (start)');
    expect(res.stdout).toContain('req_3');
  });

  it('a poller with no run at all is a gap in coverage', async () => {
    const res = await stack.run(['ledger', '--source', 'activities']);
    expect(res.code).toBe(3);
    expect(res.stdout).toContain('no run recorded');
  });
});
