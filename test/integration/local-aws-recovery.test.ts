/**
 * The local servers under failure: fauxqs on disk keeps a message's state through ChangeMessageVisibility
 * and a restart (working around a fauxqs 2.4.1 bug), and an s3rver that dies is reported rather than
 * left to fail every write silently.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, it } from 'vitest';
import { startFauxqsServer } from '../../local/aws/fauxqs-server.js';
import { ensureQueues } from '../../local/aws/resources.js';
import { startS3rver } from '../../local/aws/s3rver-server.js';
import { createSqsClient } from '../../shared/platform/aws-clients.js';

const tempDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'archiver-local-aws-recovery-'));
  tempDirs.push(dir);
  return dir;
}

describe.concurrent('local servers under failure', () => {
  it(
    'fauxqs on disk: a message made visible again (ChangeMessageVisibility ' +
      '0) is received again and keeps its receive count across a restart',
    async ({ expect }) => {
      const dataDir = await tempDir();
      let server = await startFauxqsServer({ dataDir });
      let sqs = createSqsClient({ endpoint: server.endpoint });
      const { queueUrl } = await ensureQueues(sqs, {
        name: 'visible-again',
        maxReceiveCount: 5,
        visibilityTimeoutSeconds: 600,
      });
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'again' }));
      const receive = async () =>
        (
          await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              WaitTimeSeconds: 1,
              MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            }),
          )
        ).Messages ?? [];
      const [first] = await receive();
      // fauxqs 2.4.1 alone fails this call (NOT NULL constraint) and loses the message until a restart.
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: first?.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
      const [second] = await receive();
      expect([second?.Body, second?.Attributes?.ApproximateReceiveCount]).toEqual(['again', '2']);
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: second?.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
      sqs.destroy();
      await server.stop();

      server = await startFauxqsServer({ dataDir });
      sqs = createSqsClient({ endpoint: server.endpoint });
      try {
        const [third] = await receive();
        expect([third?.Body, third?.Attributes?.ApproximateReceiveCount]).toEqual(['again', '3']);
      } finally {
        sqs.destroy();
        await server.stop();
      }
    },
  );

  it('reports an s3rver that exits without being stopped', async ({ expect }) => {
    const reasons: string[] = [];
    const s3rver = await startS3rver({
      directory: await tempDir(),
      onUnexpectedExit: (reason) => reasons.push(reason),
    });
    process.kill(s3rver.pid, 'SIGKILL');
    const deadline = Date.now() + 5_000;
    while (reasons.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reasons).toEqual([
      `the S3 server (s3rver, pid ${s3rver.pid}) exited unexpectedly (code null, signal SIGKILL)`,
    ]);
    await s3rver.stop();
    const stoppedOnPurpose: string[] = [];
    const again = await startS3rver({
      directory: await tempDir(),
      onUnexpectedExit: (reason) => stoppedOnPurpose.push(reason),
    });
    await again.stop();
    expect(stoppedOnPurpose).toEqual([]);
  });
});
