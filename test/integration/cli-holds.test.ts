import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCliStack } from '../support/cli-stack.js';
import type { CliStack } from '../support/cli-stack.js';
import { generatedFileFactory } from '../support/upstream.js';

// `archiver hold` as a legal admin uses it against the local stack (a real child process; the local
// lookup server; the ingest handler behind the stand-in event source runs the sweeps). s3rver has no
// Object Lock, so here the holds are recorded on the index only: test/integration/legal-holds.test.ts
// proves the S3 side on the RADOS gateway.
const chatId = 'claude_chat_01CliHoldChat';
const held = generatedFileFactory({
  chatId,
  filename: 'held.txt',
  content: Buffer.from('keep me\n'),
  createdAt: '2025-08-01T10:00:00.000000Z',
});
const other = generatedFileFactory({ filename: 'other.txt', content: Buffer.from('not in scope\n') });

let stack: CliStack;
beforeAll(async () => {
  stack = await createCliStack({ files: [held, other] });
  const res = await stack.run(['enqueue', held.id, other.id]);
  expect(res.code).toBe(0);
  for (const f of [held, other]) expect((await stack.waitForFinal(f.id)).status).toBe('archived');
});
afterAll(async () => {
  await stack.close();
});

const legalHoldsOf = async (fileId: string) => {
  const res = await stack.run(['lookup', '--file', fileId, '--json']);
  return Object.keys((JSON.parse(res.stdout) as { legalHolds?: Record<string, unknown> }).legalHolds ?? {});
};

describe('archiver hold', () => {
  it('places a matter, follows its sweep to the end with --wait, and the held record shows it', async () => {
    const res = await stack.run([
      'hold',
      'place',
      '--matter',
      'LH-2026-1',
      '--reason',
      'Doe v. Example',
      '--chat',
      chatId,
      '--wait',
      '--json',
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      matterId: 'LH-2026-1',
      status: 'active',
      scope: { chats: [chatId] },
      progress: { action: 'place', done: true, matched: 1, changed: 1 },
    });
    expect(await legalHoldsOf(held.id)).toEqual(['LH-2026-1']);
    expect(await legalHoldsOf(other.id)).toEqual([]);
  });

  it('lists and shows matters', async () => {
    const list = await stack.run(['hold', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/LH-2026-1\s.*active/);
    const show = await stack.run(['hold', 'show', 'LH-2026-1']);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('Doe v. Example');
    expect(show.stdout).toContain('place done: ');
  });

  it('releases the matter and follows the release sweep', async () => {
    const res = await stack.run(['hold', 'release', 'LH-2026-1', '--wait', '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ status: 'released', progress: { action: 'release', done: true } });
    expect(await legalHoldsOf(held.id)).toEqual([]);
  });

  it('exits 2 for a hold without a scope or with a bad matter id, and 1 for an unknown matter', async () => {
    const noScope = await stack.run(['hold', 'place', '--matter', 'LH-2', '--reason', 'x']);
    expect(noScope.code).toBe(2);
    expect(noScope.stderr).toMatch(/must name users, chats, projects, fileIds, or a from\/to window/);
    const badId = await stack.run(['hold', 'show', '../x']);
    expect(badId.code).toBe(2);
    const unknown = await stack.run(['hold', 'show', 'LH-nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No matter LH-nope');
  });

  it('exits 2 when the matter id is taken with another scope', async () => {
    const res = await stack.run(['hold', 'place', '--matter', 'LH-2026-1', '--reason', 'other', '--file', other.id]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('already exists');
  });
});

describe('archiver verify', () => {
  it('checks each archived file of a chat (deep tier), records it, and exits 0 when all pass', async () => {
    const res = await stack.run(['verify', '--chat', chatId, '--tier', 'deep', '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      tier: 'deep',
      checked: 1,
      failed: 0,
      checks: [{ fileId: held.id, event: { outcome: 'passed', tier: 'deep' } }],
    });
    const record = await stack.run(['lookup', '--file', held.id, '--json']);
    expect(JSON.parse(record.stdout)).toMatchObject({ fixity: { status: 'passed', lastTier: 'deep', checks: 1 } });
  });

  it('exits 3 naming the file whose stored bytes changed behind the archiver\u2019s back', async () => {
    const onDisk = join(
      inject('localAws').s3rverDirectory,
      stack.bucket,
      `archive/generated/${other.id}._S3rver_object`,
    );
    const bytes = await readFile(onDisk);
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    await writeFile(onDisk, bytes);
    const res = await stack.run(['verify', '--file', other.id, '--tier', 'deep']);
    expect(res.code).toBe(3);
    expect(res.stdout).toContain(`${other.id} failed: MD5`);
    expect(res.stderr.trim()).toBe('archiver: 1 of 1 fixity check(s) failed');
  });
});

describe('archiver verify by period, creator and sample', () => {
  type Checked = { checked: number; failed: number; checks: { fileId: string; event: { tier: string } }[] };
  const run = async (args: string[]) => {
    const res = await stack.run(['verify', ...args]);
    return { ...res, body: args.includes('--json') ? (JSON.parse(res.stdout) as Checked) : undefined };
  };

  it(
    '--since checks the archived files created upstream from then on ' + '(the search API’s period), nothing earlier',
    async () => {
      const both = await run(['--since', '2025-06-01', '--json']);
      expect(both.code).toBe(0);
      expect(both.body?.checks.map((c) => c.fileId).sort()).toEqual([held.id, other.id].sort());
      const later = await run(['--since', '2025-07-01', '--json']);
      expect(later.body?.checks.map((c) => c.fileId)).toEqual([held.id]);
      const none = await run(['--since', '2025-09-01']);
      expect(none.code).toBe(0);
      expect(none.stdout.trim()).toBe('no archived files to verify');
    },
  );

  it('--user selects by the search API’s creator filter: files of other creators are not checked', async () => {
    // The stand-in upstream's generated files name no creator, so no archived file here has one:
    // a selection by creator that fell back to every archived file would check both.
    const res = await run(['--user', 'ada@example.com', '--tier', 'deep']);
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toBe('no archived files to verify');
  });

  it(
    '--sample N checks N files drawn from the selection, ' + 'and prints a plain line per file when not on a terminal',
    async () => {
      const res = await run(['--sample', '1', '--since', '2025-06-01']);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^\[1\/1\] claude_gen_file_\w+ passed: /m);
      expect(res.stdout).not.toContain('\u001b');
      const all = await run(['--sample', '5', '--json']);
      expect(all.body?.checked).toBe(2);
    },
  );

  it('refuses two selections at once, and a sample that is not a positive whole number', async () => {
    const both = await run(['--file', held.id, '--since', '7d']);
    expect(both.code).toBe(2);
    const bad = await run(['--sample', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--sample must be a whole number');
  });
});
