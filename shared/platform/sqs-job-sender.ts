import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { EnqueueFailedError } from './errors.js';
import type { JobSender } from '../discovery/ports.js';

/**
 * Sends jobs with SendMessageBatch (10 per call), sending again only the entries the queue refused,
 * with a short backoff. Resolves only when every body was accepted.
 */
export function createSqsJobSender(
  sqs: SQSClient,
  queueUrl: string,
  opts: { maxAttempts?: number; backoffMs?: number } = {},
): JobSender {
  const maxAttempts = opts.maxAttempts ?? 5;
  const backoffMs = opts.backoffMs ?? 200;
  return {
    async send(bodies, signal, sendOpts = {}) {
      const delay =
        sendOpts.delaySeconds === undefined
          ? {}
          : { DelaySeconds: Math.min(900, Math.max(0, Math.floor(sendOpts.delaySeconds))) };
      for (let i = 0; i < bodies.length; i += 10) {
        let pending = bodies.slice(i, i + 10).map((body, j) => ({ Id: String(j), MessageBody: body, ...delay }));
        for (let attempt = 1; pending.length > 0; attempt++) {
          if (signal.aborted) throw signal.reason;
          let failedIds: Set<string>;
          try {
            const res = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }), {
              abortSignal: signal,
            });
            failedIds = new Set((res.Failed ?? []).map((f) => f.Id ?? ''));
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
    },
  };
}
