import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileItemKey } from '../../shared/contracts/table-keys.js';
import { LOCAL_CALLER_HEADER } from '../../local/lookup-server.js';
import { readStackInfo } from '../../shared/platform/local-stack-file.js';
import { createCliStack } from '../support/cli-stack.js';
import type { CliStack } from '../support/cli-stack.js';
import { seedFile, sha256Of } from '../support/search-fixture.js';
import { DynamoDbFixityRecords } from '../../shared/index/dynamodb-fixity.js';

// `archiver search`, `archiver audit` and `archiver reindex` against the local stack: search and audit
// through the lookup API (as an auditor would), reindex on the index table (as an operator would).
let stack: CliStack;
const ALICE = { id: 'user_01CliAlice', emailAddress: 'alice@example.com' };

beforeAll(async () => {
  stack = await createCliStack({ ingest: false });
  for (let i = 0; i < 3; i++) {
    await seedFile(stack.files, {
      fileId: `claude_gen_file_01CliAlice${i}`,
      creator: ALICE,
      createdAt: `2025-0${i + 1}-10T12:00:00.000Z`,
      filename: `report-${i}.csv`,
      content: `alice ${i}`,
    });
  }
  await seedFile(stack.files, {
    fileId: 'claude_gen_file_01CliBob',
    creator: { id: 'user_01CliBob', emailAddress: null },
    createdAt: '2025-02-01T00:00:00.000Z',
  });
});

afterAll(async () => {
  await stack.close();
});

describe('archiver search', () => {
  it('finds a person’s files in a period, newest first, as JSON, following pages', async () => {
    const res = await stack.run(['search', '--creator', 'ALICE@example.com', '--from', '2025-01-01', '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const body = JSON.parse(res.stdout) as { accessPattern: string; files: { fileId: string }[]; more: boolean };
    expect(body.accessPattern).toBe('creator+period');
    expect(body.files.map((f) => f.fileId)).toEqual([2, 1, 0].map((i) => `claude_gen_file_01CliAlice${i}`));
    expect(body.more).toBe(false);

    const capped = JSON.parse((await stack.run(['search', '--creator', ALICE.id, '--max', '2', '--json'])).stdout);
    expect(capped.files).toHaveLength(2);
    expect(capped.more).toBe(true);
  });

  it('prints a table by default', async () => {
    const res = await stack.run(['search', '--sha256', sha256Of('alice 1')]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('claude_gen_file_01CliAlice1');
    expect(res.stdout).toContain('report-1.csv');
    expect(res.stdout).toContain('alice@example.com');
    expect(res.stdout).toMatch(/1 file\(s\) \(sha256\)/);
  });

  it('finds the files whose latest fixity check failed (--fixity failed), and not one that passed again', async () => {
    const fixity = new DynamoDbFixityRecords(stack.aws.ddb, stack.table);
    const check = (fileId: string, outcome: 'passed' | 'failed', at: string) =>
      fixity.record(fileId, {
        eventType: 'fixity check',
        at,
        tier: 'deep',
        tool: 'node:crypto',
        toolVersion: '1',
        outcome,
        detail: outcome === 'failed' ? 'SHA-256 differs from the record' : 'MD5 and SHA-256 match',
        versionId: null,
      });
    await check('claude_gen_file_01CliAlice0', 'failed', '2026-12-01T00:00:00.000Z');
    await check('claude_gen_file_01CliAlice2', 'failed', '2026-12-01T00:00:00.000Z');
    await check('claude_gen_file_01CliAlice2', 'passed', '2026-12-02T00:00:00.000Z');
    const res = await stack.run(['search', '--fixity', 'failed', '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const body = JSON.parse(res.stdout) as { accessPattern: string; files: { fileId: string; fixity?: unknown }[] };
    expect(body.accessPattern).toBe('fixity');
    expect(body.files.map((f) => f.fileId)).toEqual(['claude_gen_file_01CliAlice0']);
    expect(body.files[0]?.fixity).toMatchObject({ status: 'failed', checks: 1 });
    // Only `failed` is a filter: the CLI refuses another value before any request.
    const passed = await stack.run(['search', '--fixity', 'passed']);
    expect(passed.code).toBe(2);
    expect(passed.stderr).toMatch(/--fixity.*failed/);
  });

  it('exits 2 with the API’s message for an unsupported combination', async () => {
    const res = await stack.run(['search', '--creator', ALICE.id, '--status', 'archived']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/creator and status cannot be combined\. Supported: one of creator/);
  });
});

describe('archiver audit', () => {
  it('lists the requests the lookup API answered, the searches above among them', async () => {
    const res = await stack.run(['audit', '--json']);
    expect(res.code).toBe(0);
    const { events } = JSON.parse(res.stdout) as {
      events: { action: string; scope: Record<string, string>; status: number }[];
    };
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(events).toContainEqual(
      expect.objectContaining({
        action: 'GET /search/files',
        status: 400,
        scope: expect.objectContaining({ status: 'archived' }),
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        action: 'GET /search/files',
        status: 200,
        scope: expect.objectContaining({ sha256: sha256Of('alice 1') }),
      }),
    );
    const table = await stack.run(['audit', '--file', 'claude_gen_file_01CliAlice1']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/0 event\(s\)/);
  });

  it('follows the trail past its first page without --to (each page answers for the same window)', async () => {
    // 205 requests by one caller: more than the CLI's page of 200. The API reads a missing `to` as
    // the time of each request, and a cursor answers only for its page's window, so the CLI must pin
    // the window's end once; it did not, and every second page was refused (400, exit 1).
    const { lookupUrl } = await readStackInfo(stack.dataDir);
    for (let i = 0; i < 205; i++) {
      const res = await fetch(`${lookupUrl}/files/claude_gen_file_01CliBob`, {
        headers: { [LOCAL_CALLER_HEADER]: 'local:cli-pager' },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const res = await stack.run(['audit', '--principal', 'local:cli-pager', '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const { events, more } = JSON.parse(res.stdout) as { events: { principal: string }[]; more: boolean };
    expect(events).toHaveLength(205);
    expect(new Set(events.map((e) => e.principal))).toEqual(new Set(['local:cli-pager']));
    expect(more).toBe(false);
  });
});

describe('archiver reindex', () => {
  it('gives a file item written without search keys its keys, once, and says so when run again', async () => {
    // A file item as the index wrote it before search existed: no s* attributes.
    await stack.aws.ddb.send(
      new PutCommand({
        TableName: stack.table,
        Item: {
          ...fileItemKey('claude_gen_file_01CliOld'),
          fileId: 'claude_gen_file_01CliOld',
          source: 'generated',
          status: 'archived',
          chatIds: [],
          filename: 'Old.txt',
          createdAt: '2024-05-05T05:05:05.000Z',
          creator: ALICE,
          md5: '0'.repeat(32),
          sha256: 'a'.repeat(64),
          sizeBytes: 3,
          mimeType: 'text/plain',
          upstreamRequestId: null,
          bucket: 'archive',
          key: 'archive/claude_gen_file_01CliOld',
          versionId: null,
          contentType: 'text/plain',
          contentDisposition: 'attachment; filename="Old.txt"',
          archivedAt: '2024-05-05T05:06:00.000Z',
          sortAt: '2024-05-05T05:05:05.000Z',
        },
      }),
    );
    const before = JSON.parse((await stack.run(['search', '--sha256', 'a'.repeat(64), '--json'])).stdout);
    expect(before.files).toEqual([]);

    const res = await stack.run(['reindex', '--json']);
    expect(res.code).toBe(0);
    const progress = JSON.parse(res.stdout) as { updated: number; fileItems: number; completedAt: string | null };
    expect(progress).toMatchObject({ updated: 1, fileItems: 5, resumed: false });
    expect(progress.completedAt).not.toBeNull();

    const found = await stack.run([
      'search',
      '--creator',
      ALICE.id,
      '--from',
      '2024-01-01',
      '--to',
      '2024-12-31',
      '--json',
    ]);
    expect(found.stderr).toBe('');
    const after = JSON.parse(found.stdout);
    expect(after.files.map((f: { fileId: string }) => f.fileId)).toEqual(['claude_gen_file_01CliOld']);

    // Completed: a second run does nothing until --restart.
    const again = JSON.parse((await stack.run(['reindex', '--json'])).stdout);
    expect(again).toMatchObject({ resumed: true, updated: 1 });
    // In words, a repeated run says that nothing was done, so its figures are not read as this run's.
    const againText = await stack.run(['reindex']);
    expect(againText.code).toBe(0);
    expect(againText.stderr).toContain(
      `already completed at ${String(again.completedAt)}; nothing done (--restart runs it again)`,
    );
    const restarted = JSON.parse((await stack.run(['reindex', '--restart', '--json'])).stdout);
    expect(restarted).toMatchObject({ resumed: false, updated: 0, fileItems: 5 });
  });
});
