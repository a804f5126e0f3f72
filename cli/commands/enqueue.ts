import { ChatIdSchema, FileIdSchema } from '../../shared/contracts/ids.js';
import { ReasonSchema, serializeJob } from '../../shared/contracts/job.js';
import { createSqsJobSender } from '../../shared/platform/sqs-job-sender.js';
import { createChatFanOut } from '../../shared/webhook/chat-fan-out.js';
import { awsFailure, createStackClients } from '../aws-access.js';
import { budgetConfigFromEnv } from '../budget-config.js';
import { createCliLog, wireDiscovery } from '../discovery-wiring.js';
import { CliError, UsageError } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';
import { describeUpstreamError } from './backfill.js';

type ChatFanOutResult = { found: true; jobs: number } | { found: false };

/**
 * `archiver enqueue <id>...`: file ids become one job each; chat ids fan out into their files' jobs
 * through the same use case as the webhook's "archive this chat now" (shared/webhook/chat-fan-out.ts:
 * every message of the chat, discovery's jobsOf, the shared budget). `--reason` goes on every job;
 * `--chat` on the file ids' jobs (the chat they were found in, so their records list it).
 */
export async function runEnqueue(
  ids: string[],
  opts: { json?: boolean | undefined; reason?: string | undefined; chat?: string | undefined },
  target: StackTarget,
  io: CliIo,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  if (opts.reason !== undefined) {
    const reason = ReasonSchema.safeParse(opts.reason);
    if (!reason.success) throw new UsageError(`--reason ${reason.error.issues[0]?.message ?? 'is not valid'}`);
  }
  if (opts.chat !== undefined && !ChatIdSchema.safeParse(opts.chat).success)
    throw new UsageError(`--chat "${opts.chat.slice(0, 80)}" is not a chat id (claude_chat_…)`);
  const fileIds: string[] = [];
  const chatIds: string[] = [];
  for (const id of ids) {
    if (FileIdSchema.safeParse(id).success) fileIds.push(id);
    else if (ChatIdSchema.safeParse(id).success) chatIds.push(id);
    else
      throw new UsageError(
        `"${id.slice(0, 80)}" is neither a file id (claude_gen_file_…, ` +
          `claude_file_…, file_…) nor a chat id (claude_chat_…)`,
      );
  }
  const budget = chatIds.length > 0 ? budgetConfigFromEnv(env) : undefined;

  const files: { fileId: string; messageId: string | null }[] = [];
  if (fileIds.length > 0) {
    const resources = await target.resources();
    const { sqs, destroy } = createStackClients(resources);
    try {
      // The one job sender of discovery and the webhook: entries the queue refuses are sent again.
      const messageIds = await createSqsJobSender(sqs, resources.queueUrl).sendWithIds(
        fileIds.map((fileId) =>
          serializeJob({
            fileId,
            ...(opts.chat === undefined ? {} : { chatId: opts.chat }),
            ...(opts.reason === undefined ? {} : { reason: opts.reason }),
          }),
        ),
        io.signal,
      );
      for (const [j, fileId] of fileIds.entries()) files.push({ fileId, messageId: messageIds[j] || null });
    } catch (err) {
      throw awsFailure('cannot enqueue', err);
    } finally {
      destroy();
    }
    if (!opts.json) for (const f of files) io.out(`enqueued ${f.fileId} (message ${f.messageId ?? '?'})`);
  }

  const chats: ({ chatId: string } & ChatFanOutResult)[] = [];
  if (budget) {
    const log = createCliLog(io);
    const wiring = await wireDiscovery(target, budget, io, log);
    const fanOut = createChatFanOut({
      upstream: wiring.deps.upstream,
      jobs: wiring.deps.jobs,
      log,
      messagePageSize: wiring.deps.messagePageSize,
    });
    try {
      for (const chatId of chatIds) {
        let result: ChatFanOutResult;
        try {
          result = await fanOut.enqueueChatFiles(chatId, opts.reason, io.signal);
        } catch (err) {
          throw describeUpstreamError(`cannot enqueue chat ${chatId}`, err);
        }
        chats.push({ chatId, ...result });
        if (!opts.json)
          io.out(
            result.found ? `chat ${chatId}: ${result.jobs} file(s) enqueued` : `chat ${chatId}: not found upstream`,
          );
      }
    } finally {
      await wiring.close();
    }
  }
  if (opts.json) io.out(toJson({ files, chats }));
  const missing = chats.filter((c) => !c.found).map((c) => c.chatId);
  if (missing.length > 0) throw new CliError(`not found upstream: ${missing.join(', ')}`);
}
