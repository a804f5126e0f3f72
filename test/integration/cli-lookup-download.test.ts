import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliStack } from '../support/cli-stack.js';
import type { CliStack } from '../support/cli-stack.js';
import { generatedFileFactory, uploadedFileFactory } from '../support/upstream.js';

// The CLI as an auditor and an operator use it against the local stack: a real child process,
// its exit code, its stdout and its one-line errors.
const chatId = 'claude_chat_01CliLookupChat';
const report = generatedFileFactory({
  chatId,
  filename: 'q3 report.csv',
  content: Buffer.from('region,revenue\nemea,12\n'),
});
const notes = uploadedFileFactory({ chatIds: [chatId], filename: 'notes.md', content: Buffer.from('# notes\n') });
const single = generatedFileFactory({ filename: 'single.txt', content: Buffer.from('archived by id\n') });
// Upstream lists it in no chat of this test: only `--chat` can put one on its record.
const found = generatedFileFactory({ filename: 'found.txt', content: Buffer.from('found in a chat export\n') });
// A second chat: one file upstream refuses for good (a failed record), one whose name carries an OSC
// title sequence, a C1 CSI, a carriage return and a right-to-left override.
const otherChatId = 'claude_chat_01CliLookupOtherChat';
const broken = generatedFileFactory({ chatId: otherChatId, filename: 'gone.txt' });
const HOSTILE_NAME = 'evil\u001b]0;owned\u0007\u009b31m\rfake\u202etxt.exe';
const hostile = generatedFileFactory({ chatId: otherChatId, filename: HOSTILE_NAME, content: Buffer.from('x\n') });
const RAW_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let stack: CliStack;
let workDir: string;

beforeAll(async () => {
  stack = await createCliStack({ files: [report, notes, single, found, broken, hostile] });
  workDir = await mkdtemp(join(tmpdir(), 'archiver-cli-work-'));
});

afterAll(async () => {
  await stack.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('archiver enqueue', () => {
  it('enqueues a file id as one job and a chat id as a job per file of the chat, then exits 0', async () => {
    const res = await stack.run(['enqueue', single.id, chatId, '--reason', 'legal hold LH-1', '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as {
      files: { fileId: string; messageId: string }[];
      chats: { chatId: string; found: boolean; jobs: number }[];
    };
    expect(out.files).toEqual([{ fileId: single.id, messageId: expect.any(String) }]);
    expect(out.chats).toEqual([{ chatId, found: true, jobs: 2 }]);
    for (const f of [single, report, notes]) expect((await stack.waitForFinal(f.id)).status).toBe('archived');
    // The chat's jobs carried the message's metadata: the worker asked upstream for content only.
    expect(stack.upstream.requestCount(report.id, 'metadata')).toBe(0);
    expect(stack.upstream.requestCount(report.id, 'content')).toBeGreaterThan(0);
  });

  it("puts the --chat chat on the file ids' jobs, so the archived record lists it beside upstream's", async () => {
    const res = await stack.run(['enqueue', found.id, '--chat', 'claude_chat_01CliFoundInChat']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const record = await stack.waitForFinal(found.id);
    expect(record.status).toBe('archived');
    expect(record.chatIds).toContain('claude_chat_01CliFoundInChat');
    expect(record.chatIds).toContain(found.chatId);
  });

  it('refuses a --chat that is not a chat id with exit 2 before sending anything', async () => {
    const res = await stack.run(['enqueue', single.id, '--chat', 'claude_file_01NotAChat']);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr.trim()).toBe('archiver: --chat "claude_file_01NotAChat" is not a chat id (claude_chat_…)');
  });

  it('exits 1 naming a chat upstream does not have, after enqueueing the rest', async () => {
    const res = await stack.run(['enqueue', 'claude_chat_01NoSuchChatAnywhere', single.id]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`enqueued ${single.id}`);
    expect(res.stderr.trim()).toBe('archiver: not found upstream: claude_chat_01NoSuchChatAnywhere');
  });

  it('refuses a reason the job schema would refuse, with exit 2', async () => {
    const res = await stack.run(['enqueue', single.id, '--reason', 'line\nbreak']);
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe('archiver: --reason may hold letters, digits, punctuation, symbols and spaces only');
  });

  it('refuses an id of no known kind with exit 2 before sending anything', async () => {
    const res = await stack.run(['enqueue', single.id, 'bogus_01X']);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('"bogus_01X" is neither a file id');
  });
});

describe('archiver lookup', () => {
  it('prints a chat as a table and as the API JSON', async () => {
    await stack.waitForFinal(report.id);
    await stack.waitForFinal(notes.id);
    const table = await stack.run(['lookup', '--chat', chatId]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(report.id);
    expect(table.stdout).toContain('q3 report.csv');
    expect(table.stdout).toMatch(/2 file\(s\)/);
    const json = await stack.run(['lookup', '--chat', chatId, '--json']);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { chatId: string; files: { fileId: string; sha256: string }[] };
    expect(body.chatId).toBe(chatId);
    expect(body.files.find((f) => f.fileId === report.id)?.sha256).toBe(sha256(report.content as Buffer));
  });

  it('prints one record with --file, exits 1 for an unseen file and 2 for a malformed id', async () => {
    const ok = await stack.run(['lookup', '--file', report.id, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      fileId: report.id,
      status: 'archived',
      sizeBytes: (report.content as Buffer).length,
    });
    const missing = await stack.run(['lookup', '--file', 'claude_gen_file_01NeverSeenAnywhere']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(
      /^archiver: no file claude_gen_file_01NeverSeenAnywhere has been seen by local stack/,
    );
    const bad = await stack.run(['lookup', '--file', '../../etc/passwd']);
    expect(bad.code).toBe(2);
    const both = await stack.run(['lookup', '--file', report.id, '--chat', chatId]);
    expect(both.code).toBe(2);
  });
});

describe('archiver lookup of a failed file and of a hostile name', () => {
  it('prints a failed file, and a chat holding one, with its reason (exit 0, not "unexpected shape")', async () => {
    // Upstream says no retry can succeed. The chat's jobs carry its files' metadata: only content is asked.
    stack.upstream.injectFault(broken.id, 'content', { status: 403, shouldRetry: false });
    const sent = await stack.run(['enqueue', otherChatId]);
    expect(sent.code).toBe(0);
    expect((await stack.waitForFinal(broken.id)).status).toBe('failed');
    await stack.waitForFinal(hostile.id);
    const one = await stack.run(['lookup', '--file', broken.id]);
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^status +failed$/m);
    expect(one.stdout).toMatch(/^reason +not_retryable$/m);
    const json = await stack.run(['lookup', '--file', broken.id, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ fileId: broken.id, status: 'failed', reason: 'not_retryable' });
    const chat = await stack.run(['lookup', '--chat', otherChatId]);
    expect(chat.stderr).toBe('');
    expect(chat.code).toBe(0);
    expect(chat.stdout).toMatch(new RegExp(`${broken.id} +│ failed +│ gone\\.txt .*not_retryable`));
  });

  it('never writes a control character of a file name to the terminal, in tables, records or JSON', async () => {
    await stack.waitForFinal(hostile.id);
    for (const argv of [
      ['lookup', '--file', hostile.id],
      ['lookup', '--chat', otherChatId],
    ]) {
      const res = await stack.run(argv);
      expect(res.code, argv.join(' ')).toBe(0);
      expect(res.stdout, argv.join(' ')).not.toMatch(RAW_CONTROLS);
      // Escaped visibly, not dropped: the auditor sees that the name holds them.
      expect(res.stdout).toContain('evil\\u001b]0;owned\\u0007\\u009b31m\\u000dfake\\u202etxt.exe');
    }
    const json = await stack.run(['lookup', '--file', hostile.id, '--json']);
    expect(json.stdout).not.toMatch(RAW_CONTROLS);
    // The escapes are JSON's own: the name decodes back exactly.
    expect((JSON.parse(json.stdout) as { filename: string }).filename).toBe(HOSTILE_NAME);
  });
});

describe('archiver download', () => {
  it('writes the archived copy under its own name after re-verifying its SHA-256', async () => {
    await stack.waitForFinal(report.id);
    const res = await stack.run(['download', report.id], { cwd: workDir });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const written = await readFile(join(workDir, 'q3 report.csv'));
    expect(written.equals(report.content as Buffer)).toBe(true);
    expect(res.stdout).toContain(`sha256 ${sha256(report.content as Buffer)} verified`);
    // A second download does not overwrite without --force.
    const again = await stack.run(['download', report.id], { cwd: workDir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists');
  });

  it('exits 3 and writes nothing when the stored object no longer matches the index', async () => {
    const record = await stack.waitForFinal(notes.id);
    if (record.status !== 'archived') throw new Error('expected an archived record');
    // Tamper with the archived object: same key, different bytes (the local S3 keeps no versions).
    await stack.aws.s3rver.send(
      new PutObjectCommand({ Bucket: stack.bucket, Key: record.key, Body: Buffer.from('# notes, altered\n') }),
    );
    const out = join(workDir, 'tampered.md');
    const res = await stack.run(['download', notes.id, '-o', out, '--json']);
    expect(res.code).toBe(3);
    const body = JSON.parse(res.stdout) as { verified: boolean; mismatches: string[] };
    expect(body.verified).toBe(false);
    expect(body.mismatches.join(' ')).toContain(`sha256 expected ${record.sha256}`);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/^archiver: verification failed for claude_file_/);
    expect(existsSync(out)).toBe(false);
    // No temporary file left behind either.
    expect((await readdir(workDir)).filter((f) => f.includes('tampered'))).toEqual([]);
  });

  it('keeps the mismatching bytes for inspection only when asked', async () => {
    const out = join(workDir, 'kept.md');
    const res = await stack.run(['download', notes.id, '-o', out, '--keep-unverified']);
    expect(res.code).toBe(3);
    expect(existsSync(out)).toBe(false);
    expect(await readFile(`${out}.unverified`, 'utf8')).toBe('# notes, altered\n');
  });

  it('exits 1 for a file that has no archived copy', async () => {
    const res = await stack.run(['download', 'claude_file_01NeverArchivedHere']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toMatch(/^archiver: no file claude_file_01NeverArchivedHere has been seen/);
  });
});
