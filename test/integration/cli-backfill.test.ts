import { spawn } from 'node:child_process';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISCOVERY_KEYS } from '../../shared/contracts/table-keys.js';
import type { UpstreamFile } from '../../local/upstream/catalogue.js';
import { CLI_ENTRY, createCliStack, runCli } from '../support/cli-stack.js';
import type { CliStack } from '../support/cli-stack.js';
import { generatedFileFactory } from '../support/upstream.js';

// `archiver backfill` against the local stack: the chats listing by created_at with time bounds and
// user ids, each chat read through discovery's poller step and the shared budget, the checkpoint
// that survives Ctrl-C, and the two displays (plain lines in a pipe, a live bar in a terminal).
const ESC = '\u001b';

function chatsOf(
  _user: string,
  prefix: string,
  count: number,
  day: string,
): { files: UpstreamFile[]; chatIds: string[] } {
  const files: UpstreamFile[] = [];
  const chatIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const chatId = `claude_chat_01${prefix}${String(i).padStart(3, '0')}`;
    chatIds.push(chatId);
    files.push(
      generatedFileFactory({
        chatId,
        filename: `${prefix}-${i}.txt`,
        createdAt: `${day}T${String(10 + (i % 10)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00.000000Z`,
        content: Buffer.from(`${prefix} ${i}\n`),
      }),
    );
  }
  return { files, chatIds };
}

const alice = chatsOf('user_01Alice', 'Alice', 6, '2025-03-10');
const aliceOld = chatsOf('user_01Alice', 'AliceOld', 2, '2024-12-10');
const bob = chatsOf('user_01Bob', 'Bob', 3, '2025-03-12');
const carol = chatsOf('user_01Carol', 'Carol', 30, '2025-05-10');

let stack: CliStack;

beforeAll(async () => {
  stack = await createCliStack({ files: [...alice.files, ...aliceOld.files, ...bob.files, ...carol.files] });
  for (const id of [...alice.chatIds, ...aliceOld.chatIds])
    stack.upstream.listings.setChat(id, { userId: 'user_01Alice' });
  for (const id of bob.chatIds) stack.upstream.listings.setChat(id, { userId: 'user_01Bob' });
  for (const id of carol.chatIds) stack.upstream.listings.setChat(id, { userId: 'user_01Carol' });
});

afterAll(async () => {
  await stack.close();
});

describe('archiver backfill', () => {
  it(
    'enqueues the files of the chats in the period of the user only, ' +
      'drawing from the shared budget, in plain lines when piped',
    async () => {
      const res = await stack.run([
        'backfill',
        '--since',
        '2025-03-01',
        '--until',
        '2025-04-01',
        '--user',
        'user_01Alice',
      ]);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).not.toContain(ESC);
      expect(res.stdout).not.toContain('\r');
      expect(res.stdout).toMatch(
        /^backfill: backfill of chats created 2025-03-01T00:00:00.000Z to 2025-04-01T00:00:00.000Z, user_01Alice$/m,
      );
      expect(res.stdout).toMatch(/^backfill completed: 6 chats scanned, 6 files enqueued/m);
      for (const f of alice.files) expect((await stack.waitForFinal(f.id)).status).toBe('archived');
      for (const f of [...aliceOld.files, ...bob.files]) expect(await stack.files.get(f.id)).toBeUndefined();
      // The listing asked upstream for exactly that slice.
      const listing = stack.upstream.requests.find((r) => r.endpoint === 'chats');
      expect(listing?.query.get('order_by')).toBe('created_at');
      expect(listing?.query.getAll('user_ids[]')).toEqual(['user_01Alice']);
      // Every upstream request went through the shared budget as a poller's.
      const window = await stack.aws.ddb.send(
        new GetCommand({ TableName: stack.table, Key: DISCOVERY_KEYS.budgetWindow('compliance') }),
      );
      expect(window.Item?.['pollerUsed']).toBeGreaterThan(0);
    },
  );

  it('a second run with the same options reads no chat again: the chat checkpoints say they are done', async () => {
    const before = stack.upstream.requestCount(undefined, 'messages');
    const res = await stack.run([
      'backfill',
      '--since',
      '2025-03-01',
      '--until',
      '2025-04-01',
      '--user',
      'user_01Alice',
      '--json',
    ]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      ending: 'completed',
      resumed: false,
      chatsScanned: 6,
      filesEnqueued: 0,
    });
    expect(stack.upstream.requestCount(undefined, 'messages')).toBe(before);
  });

  it('resumes after Ctrl-C where it stopped (exit 130), counting each chat once', async () => {
    const args = [
      'backfill',
      '--since',
      '2025-05-01',
      '--until',
      '2025-06-01',
      '--user',
      'user_01Carol',
      '--progress',
      'plain',
    ];
    // A slow budget (1 poller request a second) so that Ctrl-C lands mid-walk.
    const first = await runCli(
      args,
      stack.cliEnv({ COMPLIANCE_REQUESTS_PER_MINUTE: '120' }),
      undefined,
      (_chunk, child) => {
        if (/\d+ chats scanned/.test(_chunk)) child.kill('SIGINT');
      },
    );
    expect(first.code).toBe(130);
    const stopped =
      /interrupted after (\d+) chats scanned, (\d+) files enqueued; run the same command again to resume/.exec(
        first.stderr,
      );
    expect(stopped, first.stderr).not.toBeNull();
    const scanned = Number(stopped?.[1]);
    expect(scanned).toBeGreaterThan(0);
    expect(scanned).toBeLessThan(30);

    const second = await stack.run(args);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(
      `resuming the backfill of chats created 2025-05-01T00:00:00.000Z ` +
        `to 2025-06-01T00:00:00.000Z, user_01Carol: ${scanned} chats ` +
        `scanned`,
    );
    expect(second.stdout).toMatch(/^backfill completed: 30 chats scanned, 30 files enqueued/m);
    for (const f of carol.files) expect((await stack.waitForFinal(f.id)).status).toBe('archived');
  });

  it('shows a live progress display on a terminal (pseudo-terminal via script(1))', async () => {
    const command = [
      process.execPath,
      CLI_ENTRY,
      'backfill',
      '--since',
      '2025-03-01',
      '--until',
      '2025-04-01',
      '--user',
      'user_01Bob',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const res = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env: stack.cliEnv({ COLUMNS: '120' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(res.code, res.output).toBe(0);
    // cli-progress drew and redrew a bar: cursor hidden, carriage returns, the payload's fields.
    expect(res.output).toContain(`${ESC}[?25l`);
    expect(res.output).toMatch(/backfill \[[█░]+\] +\d+% \| chats 3 \| files 3 \| [\d.]+ chats\/s \| ETA /);
    expect(res.output).toContain('backfill completed: 3 chats scanned, 3 files enqueued');
    for (const f of bob.files) expect((await stack.waitForFinal(f.id)).status).toBe('archived');
  });

  it('refuses bad options with exit 2', async () => {
    const inverted = await stack.run(['backfill', '--since', '2025-04-01', '--until', '2025-03-01']);
    expect(inverted.code).toBe(2);
    expect(inverted.stderr.trim()).toBe('archiver: --since must be before --until');
    const user = await stack.run(['backfill', '--user', 'alice@example.com']);
    expect(user.code).toBe(2);
  });
});
