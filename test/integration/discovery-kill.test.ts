import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runChatPoller } from '../../shared/discovery/chat-poller.js';
import { createDiscoveryStack } from '../support/discovery-stack.js';
import type { DiscoveryStack } from '../support/discovery-stack.js';
import { generatedFileFactory, randomIdBody, TEST_UPSTREAM_API_KEY } from '../support/upstream.js';

let stack: DiscoveryStack;
beforeEach(async () => {
  stack = await createDiscoveryStack();
});
afterEach(async () => {
  await stack.close();
});

it(
  'resumes after the poller process is killed mid-run (SIGKILL): ' + 'every file is enqueued, nothing skipped',
  async () => {
    const files = Array.from({ length: 40 }, (_, i) =>
      generatedFileFactory({
        chatId: `claude_chat_${randomIdBody()}`,
        createdAt: `2025-06-02T10:${String(i).padStart(2, '0')}:00Z`,
      }),
    );
    await stack.addFiles(...files);
    const script = fileURLToPath(new URL('../support/chat-poller-process.ts', import.meta.url));
    const child = fork(script, [], {
      execArgv: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href],
      env: {
        ...process.env,
        INDEX_TABLE: stack.table,
        INGEST_QUEUE_URL: stack.queueUrl,
        ANTHROPIC_BASE_URL: stack.upstream.url,
        ANTHROPIC_API_KEY: TEST_UPSTREAM_API_KEY,
        // 600/min with pollers at 30 %: about 3 requests a second, so 41 requests take ~14 s.
        COMPLIANCE_REQUESTS_PER_MINUTE: '600',
        PAGE_SIZE: '10',
        POLLER_LEASE_SECONDS: '10',
        LOCAL_DYNAMODB_ENDPOINT: stack.aws.dynamodbEndpoint,
        LOCAL_SQS_ENDPOINT: stack.aws.sqsEndpoint,
      },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve) =>
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('started') && resolve()),
    );
    // Kill it once it has enqueued some jobs but not all.
    const requested = () => stack.upstream.requests.filter((r) => r.path.endsWith('/messages')).length;
    while (requested() < 8) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const beforeResume = await stack.drainJobs();
    expect(beforeResume.length).toBeGreaterThan(0);
    expect(beforeResume.length).toBeLessThan(files.length);
    // The killed run left its lease: a new run is turned away until the lease ends, then resumes.
    expect(
      (
        await runChatPoller(
          { ...stack.deps('chats'), deletions: stack.poller('chats').deletions, messagePageSize: 100 },
          stack.runOptions(),
        )
      ).kind,
    ).toBe('lease_held');
    await new Promise((r) => setTimeout(r, 10_500));

    const resumed = await runChatPoller(
      { ...stack.deps('chats'), deletions: stack.poller('chats').deletions, messagePageSize: 100 },
      stack.runOptions(),
    );

    expect(resumed.kind === 'ran' && resumed.ledger.ending).toBe('completed');
    const after = await stack.drainJobs();
    expect(new Set([...beforeResume, ...after].map((j) => j.fileId))).toEqual(new Set(files.map((f) => f.id)));
    // Chats checkpointed before the kill are not read again: at most the chats in flight are re-sent.
    expect(beforeResume.length + after.length).toBeLessThanOrEqual(files.length + 8);
  },
);
