/**
 * `npm run enqueue -- <fileId>... [--chat <chatId>]`: sends ingest jobs to the running local stack.
 * Ids are validated with the same job schema the ingest Lambda applies.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../shared/platform/aws-clients.js';
import { parseJob, serializeJob } from '../shared/contracts/job.js';
import { useLocalAwsEnvironment } from '../shared/platform/local-account.js';
import { readStackInfo } from '../shared/platform/local-stack-file.js';

async function main(argv: string[]): Promise<void> {
  const fileIds: string[] = [];
  let chatId: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--chat') {
      chatId = argv[++i];
      if (!chatId) throw new Error('--chat needs a chat id');
    } else if (arg === '--help' || arg === '-h') {
      console.log('usage: npm run enqueue -- <fileId>... [--chat <chatId>]');
      return;
    } else {
      fileIds.push(arg);
    }
  }
  if (fileIds.length === 0) throw new Error('usage: npm run enqueue -- <fileId>... [--chat <chatId>]');
  const bodies = fileIds.map((fileId) => {
    const body = serializeJob({ fileId, ...(chatId ? { chatId } : {}) });
    const parsed = parseJob(body);
    if (!parsed.ok) throw new Error(`${fileId}: ${parsed.reason}`);
    return body;
  });
  useLocalAwsEnvironment();
  const stack = await readStackInfo();
  const sqs = createSqsClient({ endpoint: stack.sqs.endpoint });
  for (const [i, body] of bodies.entries()) {
    const res = await sqs.send(new SendMessageCommand({ QueueUrl: stack.sqs.queueUrl, MessageBody: body }));
    console.log(`enqueued ${fileIds[i]} (message ${res.MessageId})`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
