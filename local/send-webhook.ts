/**
 * `npm run webhook -- <fileId|chatId>... [--reason TEXT] [--id WEBHOOK_ID]`: signs an event with the
 * running local stack's webhook secret (Standard Webhooks, via the standardwebhooks package, as a
 * sender would) and posts it to its `POST /events`; prints the status and the answer. Ids starting
 * `claude_chat_` go in `chatIds`, the others in `fileIds`. Repeat `--id` to see a duplicate. A `503`, or a
 * `409` with Retry-After, is sent again as the endpoint asks (local/webhook-sender.ts), each printed.
 */
import { randomUUID } from 'node:crypto';
import { readStackInfo } from '../shared/platform/local-stack-file.js';
import { sendWebhookDelivery } from './webhook-sender.js';

const USAGE = 'usage: npm run webhook -- <fileId|chatId>... [--reason TEXT] [--id WEBHOOK_ID]';

async function main(argv: string[]): Promise<number> {
  const ids: string[] = [];
  let reason: string | undefined;
  let webhookId = `msg_${randomUUID().replaceAll('-', '')}`;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      return 0;
    } else if (arg === '--reason') {
      reason = argv[++i];
      if (reason === undefined) throw new Error('--reason needs a text');
    } else if (arg === '--id') {
      const id = argv[++i];
      if (id === undefined) throw new Error('--id needs a webhook id');
      webhookId = id;
    } else {
      ids.push(arg);
    }
  }
  if (ids.length === 0) throw new Error(USAGE);
  const chatIds = ids.filter((id) => id.startsWith('claude_chat_'));
  const fileIds = ids.filter((id) => !id.startsWith('claude_chat_'));
  const body = JSON.stringify({
    v: 1,
    ...(fileIds.length ? { fileIds } : {}),
    ...(chatIds.length ? { chatIds } : {}),
    ...(reason ? { reason } : {}),
  });

  const { webhook } = await readStackInfo();
  const res = await sendWebhookDelivery(
    { url: webhook.url, secret: webhook.secret, webhookId, body },
    { report: (line) => console.log(line) },
  );
  console.log(`${res.status} ${res.body}`);
  return res.status < 300 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
