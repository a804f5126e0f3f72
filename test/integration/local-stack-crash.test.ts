/**
 * `npm start` as a deployment: killed with SIGKILL in the middle of a batch and started again on the
 * same data folder, it archives every accepted job exactly once, within a minute of the restart: no
 * job lost (the queue is on disk), none stalled behind the dead run's leases or invisible messages
 * (crash-recovery.ts), no object written twice (s3rver's write log), no chat listing doubled.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { UpstreamServer } from '../../local/upstream/server.js';
import { serializeJob } from '../../shared/contracts/job.js';
import { createSqsClient } from '../../shared/platform/aws-clients.js';
import { startLocalStackProcess, type LocalStackProcess } from '../support/local-stack-process.js';
import { generatedFileFactory, startTestUpstream, TEST_UPSTREAM_API_KEY } from '../support/upstream.js';

const JOBS = 120;
const CHATS = Array.from({ length: 4 }, (_, i) => `claude_chat_01CrashChat${i}`);
/** The stack is killed once upstream has been asked for this many files' content. */
const KILL_AFTER_DOWNLOADS = 40;
const RECOVERY_DEADLINE_MS = 60_000;

const running: LocalStackProcess[] = [];
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stack of running) await stack.kill();
  for (const fn of cleanup) await fn();
});

/** Mostly small files, a few multipart ones; each download first stalls, so batches are always in flight. */
async function seedUpstream(upstream: UpstreamServer) {
  const files = Array.from({ length: JOBS }, (_, i) =>
    generatedFileFactory({
      chatId: CHATS[i % CHATS.length] ?? '',
      createdAt: `2025-07-01T10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
      filename: `crash-${i}.bin`,
      mimeType: 'application/octet-stream',
      content: { size: i % 30 === 7 ? 10 * 1024 * 1024 : 50_000 + ((i * 7_919) % 400_000), seed: i + 1 },
    }),
  );
  for (const f of files) {
    await upstream.addFile(f);
    upstream.injectFault(f.id, 'content', { kind: 'stall', ms: 300 });
  }
  return files;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(url);
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('local stack crash and restart', () => {
  it('archives every accepted job exactly once after a SIGKILL mid-batch and a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'archiver-crash-'));
    const upstream = await startTestUpstream();
    cleanup.push(
      () => upstream.close(),
      () => rm(dataDir, { recursive: true, force: true }),
    );
    const files = await seedUpstream(upstream);
    const env = { ANTHROPIC_API_KEY: TEST_UPSTREAM_API_KEY, ANTHROPIC_BASE_URL: upstream.url };

    // Run 1: accept the whole batch, then die mid-way with no chance to clean up.
    const first = await startLocalStackProcess({ dataDir, env });
    running.push(first);
    const sqs = createSqsClient({ endpoint: first.info.sqs.endpoint });
    for (let i = 0; i < JOBS; i += 10) {
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: first.info.sqs.queueUrl,
          Entries: files
            .slice(i, i + 10)
            .map((f, j) => ({ Id: String(j), MessageBody: serializeJob({ fileId: f.id, chatId: f.chatId }) })),
        }),
      );
      expect(sent.Failed ?? []).toEqual([]);
    }
    sqs.destroy();
    const downloadsStarted = () =>
      new Set(upstream.requests.filter((r) => r.endpoint === 'content').map((r) => r.id)).size;
    const killBy = Date.now() + 30_000;
    while (downloadsStarted() < KILL_AFTER_DOWNLOADS && Date.now() < killBy)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(downloadsStarted()).toBeGreaterThanOrEqual(KILL_AFTER_DOWNLOADS);
    await first.kill();
    const archivedBeforeKill = (first.output().match(/INFO {2}\[ingest\] archived /g) ?? []).length;
    expect(archivedBeforeKill, 'the kill came after the whole batch').toBeLessThan(JOBS);

    // Run 2: same data folder. Everything accepted must end archived, and soon.
    const restartedAt = Date.now();
    const second = await startLocalStackProcess({ dataDir, env });
    running.push(second);
    const lookup = second.info.lookupUrl;
    const pending = new Set(files.map((f) => f.id));
    const records = new Map<string, Record<string, unknown>>();
    while (pending.size > 0 && Date.now() - restartedAt < RECOVERY_DEADLINE_MS) {
      for (const id of [...pending]) {
        const { status, body } = await getJson(`${lookup}/files/${id}`);
        if (status === 200 && body['status'] === 'archived') {
          records.set(id, body);
          pending.delete(id);
        }
      }
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const stackLog = () =>
      second
        .output()
        .split('\n')
        .filter((line) => !line.includes('[lookup]'))
        .slice(-40)
        .join('\n');
    expect([...pending], `not archived within ${RECOVERY_DEADLINE_MS / 1000} s of the restart\n${stackLog()}`).toEqual(
      [],
    );
    // The restart really had work of the dead run to take over.
    expect(second.output()).toMatch(
      /resumed [1-9]\d* job\(s\) the previous run left unfinished \([1-9]\d* lease\(s\) released\)/,
    );

    // Every record holds the bytes upstream served.
    for (const f of files) {
      const digest = await upstream.digestOf(f.id);
      expect(records.get(f.id)).toMatchObject({
        sha256: digest.sha256Hex,
        md5: digest.md5Hex,
        sizeBytes: digest.sizeBytes,
        chatIds: [f.chatId],
      });
    }

    // No object written twice: s3rver keeps no versions, its write log keeps every write.
    const writes = (await readFile(join(dataDir, 's3-writes.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; key: string });
    const created = writes.filter((w) => w.event.startsWith('ObjectCreated'));
    const perKey = new Map<string, number>();
    for (const w of created) perKey.set(w.key, (perKey.get(w.key) ?? 0) + 1);
    for (const record of records.values()) expect(perKey.get(String(record['key'])), String(record['key'])).toBe(1);
    expect(created).toHaveLength(JOBS);

    // No chat lists a file twice, and none misses one.
    for (const chatId of CHATS) {
      const { status, body } = await getJson(`${lookup}/chats/${chatId}/files?limit=100`);
      expect(status).toBe(200);
      expect(body['nextCursor']).toBeUndefined();
      const listed = (body['files'] as { fileId: string }[]).map((f) => f.fileId);
      expect(listed).toHaveLength(new Set(listed).size);
      expect(new Set(listed)).toEqual(new Set(files.filter((f) => f.chatId === chatId).map((f) => f.id)));
    }

    // Nothing left in the queue or dead-lettered. The stack's pollers also find these files in their
    // chats and enqueue them again; those duplicates are acknowledged without a download, so the
    // queue drains shortly after the last file is archived rather than at that very moment.
    const sqs2 = createSqsClient({ endpoint: second.info.sqs.endpoint });
    const depth = async (queueUrl: string) => {
      const { Attributes = {} } = await sqs2.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return [Attributes.ApproximateNumberOfMessages, Attributes.ApproximateNumberOfMessagesNotVisible];
    };
    const drainBy = Date.now() + 60_000;
    while (Date.now() < drainBy && (await depth(second.info.sqs.queueUrl)).some((n) => n !== '0'))
      await new Promise((resolve) => setTimeout(resolve, 500));
    for (const queueUrl of [second.info.sqs.queueUrl, second.info.sqs.deadLetterQueueUrl])
      expect(await depth(queueUrl), queueUrl).toEqual(['0', '0']);
    sqs2.destroy();

    // Ctrl-C: a clean exit that removes the stack file.
    expect(await second.stop('SIGINT')).toBe(0);
    await expect(stat(join(dataDir, 'stack.json'))).rejects.toThrow();
  });
});

describe('local stack stopped by a signal to its process group', () => {
  it('drains the running jobs with S3 still up when SIGTERM reaches every process of the group', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'archiver-group-stop-'));
    const upstream = await startTestUpstream();
    cleanup.push(
      () => upstream.close(),
      () => rm(dataDir, { recursive: true, force: true }),
    );
    // Each download stalls long enough for the signal to arrive while it runs.
    const files = Array.from({ length: 3 }, (_, i) =>
      generatedFileFactory({ filename: `group-${i}.txt`, content: Buffer.from(`group stop ${i}\n`) }),
    );
    for (const f of files) {
      await upstream.addFile(f);
      upstream.injectFault(f.id, 'content', { kind: 'stall', ms: 1_500 });
    }
    const env = { ANTHROPIC_API_KEY: TEST_UPSTREAM_API_KEY, ANTHROPIC_BASE_URL: upstream.url };
    const stack = await startLocalStackProcess({ dataDir, env, ownGroup: true });
    running.push(stack);
    const sqs = createSqsClient({ endpoint: stack.info.sqs.endpoint });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.info.sqs.queueUrl,
        Entries: files.map((f, j) => ({
          Id: String(j),
          MessageBody: serializeJob({ fileId: f.id, chatId: f.chatId }),
        })),
      }),
    );
    sqs.destroy();
    const by = Date.now() + 30_000;
    while (!upstream.requests.some((r) => r.endpoint === 'content') && Date.now() < by)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(upstream.requests.some((r) => r.endpoint === 'content')).toBe(true);

    const code = await stack.stopGroup('SIGTERM');
    expect(stack.output()).not.toMatch(/S3 server exited unexpectedly|ECONNREFUSED/);
    expect(code).toBe(0);
    // The jobs that were running when the signal came finished: archived, not failed mid-way.
    expect(stack.output()).toMatch(/INFO {2}\[ingest\] archived /);
  });
});

/**
 * What a user does: `npm start` in a terminal, then Ctrl-C, which the terminal sends to every process
 * of the foreground group (npm, its shell, and whatever the script starts). The stack must see that
 * as one Ctrl-C and drain its running jobs; a wrapper that relays the signal again (tsx's CLI does,
 * when the stack has not told it within 30 ms that it got the signal itself, and then SIGKILLs it if
 * it does not answer the relay in time) turns one Ctrl-C into "Ctrl-C again: exiting now" or a kill.
 */
describe('npm start stopped by Ctrl-C', () => {
  it('sees one SIGINT, drains the running jobs and stops cleanly', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'archiver-npm-start-stop-'));
    const upstream = await startTestUpstream();
    cleanup.push(
      () => upstream.close(),
      () => rm(dataDir, { recursive: true, force: true }),
    );
    const files = Array.from({ length: 3 }, (_, i) =>
      generatedFileFactory({ filename: `ctrl-c-${i}.txt`, content: Buffer.from(`ctrl-c ${i}\n`) }),
    );
    for (const f of files) {
      await upstream.addFile(f);
      upstream.injectFault(f.id, 'content', { kind: 'stall', ms: 1_500 });
    }
    const env = { ANTHROPIC_API_KEY: TEST_UPSTREAM_API_KEY, ANTHROPIC_BASE_URL: upstream.url };
    // npm start builds the console first (prestart): give it time under load.
    const stack = await startLocalStackProcess({ dataDir, env, ownGroup: true, viaNpmStart: true, timeoutMs: 180_000 });
    running.push(stack);
    // No process but the stack runs local/start.ts (the shell that npm starts only waits for it), so
    // nothing stands between the terminal's signal and the stack to relay it a second time.
    const group = execFileSync('ps', ['-o', 'comm=,args=', '-g', String(stack.child.pid)], { encoding: 'utf8' });
    const runners = group
      .split('\n')
      .filter((line) => line.includes('local/start.ts') && !/^(sh|bash|dash)\s/.test(line));
    expect(runners, group).toHaveLength(1);

    const sqs = createSqsClient({ endpoint: stack.info.sqs.endpoint });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.info.sqs.queueUrl,
        Entries: files.map((f, j) => ({
          Id: String(j),
          MessageBody: serializeJob({ fileId: f.id, chatId: f.chatId }),
        })),
      }),
    );
    sqs.destroy();
    const by = Date.now() + 30_000;
    while (!upstream.requests.some((r) => r.endpoint === 'content') && Date.now() < by)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(upstream.requests.some((r) => r.endpoint === 'content')).toBe(true);

    // npm waits for its script, then ends itself by the same signal, as shells do: the exit code that
    // tells a clean stop is the stack's, whose last line says it stopped (exit 130 would skip it).
    await stack.stopGroup('SIGINT');
    const output = stack.output();
    expect(output.match(/SIGINT: stopping/g)).toHaveLength(1);
    expect(output).not.toContain('SIGINT again');
    expect(output).toMatch(/INFO {2}\[ingest\] archived /);
    expect(output).toContain('stopped; the archive, the index and the queue stay in');
  });
});
