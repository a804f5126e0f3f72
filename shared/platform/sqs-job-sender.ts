import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { EnqueueFailedError } from './errors.js';
import type { JobSender } from '../discovery/ports.js';

/** The job sender, which can also say the message id the queue gave each body (`archiver enqueue` prints them). */
export interface SqsJobSender extends JobSender {
  /** Like `send`; resolves to the message id of each body, in the order of `bodies`. */
  sendWithIds(bodies: readonly string[], signal: AbortSignal, opts?: { delaySeconds?: number }): Promise<string[]>;
}

/**
 * Sends jobs with SendMessageBatch (10 per call), sending again only the entries the queue refused,
 * with a short backoff. Resolves only when every body was accepted. The one sender behind the pollers,
 * the webhook, `archiver backfill` and `archiver enqueue`.
 */
export function createSqsJobSender(
  sqs: SQSClient,
  queueUrl: string,
  opts: { maxAttempts?: number; backoffMs?: number } = {},
): SqsJobSender {
  const maxAttempts = opts.maxAttempts ?? 5;
  const backoffMs = opts.backoffMs ?? 200;
  const sender: SqsJobSender = {
    async send(bodies, signal, sendOpts = {}) {
      await sender.sendWithIds(bodies, signal, sendOpts);
    },
    async sendWithIds(bodies, signal, sendOpts = {}) {
      const ids: string[] = [];
      const delay =
        sendOpts.delaySeconds === undefined
          ? {}
          : { DelaySeconds: Math.min(900, Math.max(0, Math.floor(sendOpts.delaySeconds))) };
      for (let i = 0; i < bodies.length; i += 10) {
        let pending = bodies.slice(i, i + 10).map((body, j) => ({ Id: String(i + j), MessageBody: body, ...delay }));
        for (let attempt = 1; pending.length > 0; attempt++) {
          if (signal.aborted) throw signal.reason;
          let failedIds: Set<string>;
          try {
            const res = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }), {
              abortSignal: signal,
            });
            failedIds = new Set((res.Failed ?? []).map((f) => f.Id ?? ''));
            for (const ok of res.Successful ?? []) if (ok.Id !== undefined) ids[Number(ok.Id)] = ok.MessageId ?? '';
          } catch (err) {
            if (signal.aborted || attempt >= maxAttempts) throw err;
            failedIds = new Set(pending.map((p) => p.Id));
          }
          pending = pending.filter((p) => failedIds.has(p.Id));
          if (pending.length === 0) break;
          if (attempt >= maxAttempts) throw new EnqueueFailedError(pending.length);
          await new Promise((resolve) => setTimeout(resolve, backoffMs * attempt));
        }
      }
      return ids;
    },
  };
  return sender;
}
