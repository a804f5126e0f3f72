/**
 * Reading and redriving the dead-letter queue. SQS has no "peek": listing receives every message
 * (hidden for a moment so one pass sees each once), then hands them straight back by setting their
 * visibility to 0. A redrive resets the file's record to pending (DynamoDbRedriveReset), sends the same
 * body to the ingest queue, and only then deletes the dead letter: a crash in between leaves a
 * duplicate job, which ingest absorbs, never a lost one.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { parseJob } from '../shared/contracts/job.js';
import type { StackQueuesAndIndex } from './aws-access.js';
import { DynamoDbFileIndex } from '../shared/index/dynamodb-file-index.js';
import { DynamoDbRedriveReset } from '../shared/index/dynamodb-redrive-reset.js';
import type { RedriveReset } from '../shared/index/dynamodb-redrive-reset.js';

export type DeadLetterDeps = StackQueuesAndIndex;

/** One dead letter as `archiver dlq list --json` prints it (a stable shape for scripts). */
export interface DeadLetter {
  messageId: string;
  /** When the job was first sent (SQS keeps it across the move to the DLQ). */
  sentAt: string | null;
  /** Deliveries so far, including those from the ingest queue. */
  receiveCount: number | null;
  fileId: string | null;
  chatId: string | null;
  /** Why it is here: the rejectReason attribute for a malformed job, else the record's last error. */
  reason: string;
  /** The file's record status, when the body names a file the index knows. */
  recordStatus: string | null;
}

const HIDE_SECONDS = 30;

/** Receives up to `max` dead letters, keeping them hidden while `use` runs, then releases those not consumed. */
async function withReceived<T>(
  deps: DeadLetterDeps,
  max: number,
  use: (messages: Message[]) => Promise<{ result: T; consumed: Set<string> }>,
): Promise<T> {
  const seen = new Map<string, Message>();
  for (let empty = 0; seen.size < max && empty < 2; ) {
    const res = await deps.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deps.deadLetterQueueUrl,
        MaxNumberOfMessages: Math.min(10, max - seen.size),
        VisibilityTimeout: HIDE_SECONDS,
        WaitTimeSeconds: empty === 0 && seen.size === 0 ? 1 : 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      }),
    );
    const batch = res.Messages ?? [];
    const fresh = batch.filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) empty += 1;
    for (const m of fresh) seen.set(m.MessageId ?? '', m);
  }
  const messages = [...seen.values()];
  let consumed = new Set<string>();
  try {
    const out = await use(messages);
    consumed = out.consumed;
    return out.result;
  } finally {
    await release(
      deps,
      messages.filter((m) => !consumed.has(m.MessageId ?? '')),
    );
  }
}

async function release(deps: DeadLetterDeps, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await deps.sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: deps.deadLetterQueueUrl,
          Entries: messages
            .slice(i, i + 10)
            .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle ?? '', VisibilityTimeout: 0 })),
        }),
      )
      .catch(() => undefined); // a message not handed back reappears after HIDE_SECONDS anyway
  }
}

/** Lists up to `max` dead letters with their reasons, leaving them in the queue. */
export async function listDeadLetters(deps: DeadLetterDeps, max: number): Promise<DeadLetter[]> {
  return withReceived(deps, max, async (messages) => ({
    result: await Promise.all(messages.map((m) => describeDeadLetter(deps, m))),
    consumed: new Set(),
  }));
}

async function describeDeadLetter(deps: DeadLetterDeps, m: Message): Promise<DeadLetter> {
  const attrs = m.Attributes ?? {};
  const sent = Number(attrs['SentTimestamp']);
  const count = Number(attrs['ApproximateReceiveCount']);
  const rejectReason = m.MessageAttributes?.['rejectReason']?.StringValue;
  const parsed = parseJob(m.Body ?? '');
  const base = {
    messageId: m.MessageId ?? '',
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : null,
    receiveCount: Number.isFinite(count) && count > 0 ? count : null,
  };
  if (!parsed.ok)
    return { ...base, fileId: null, chatId: null, reason: rejectReason ?? parsed.reason, recordStatus: null };
  const record = await new DynamoDbFileIndex(deps.doc, deps.table).get(parsed.job.fileId);
  const status = record?.status ?? null;
  // A pending record keeps its last error in `lastError`; a failed one (dead-lettered, or given up
  // on) its reason and the last error's words in `reason` and `detail`.
  const lastError = record?.status === 'pending' ? record.lastError : null;
  const failure = record?.status === 'failed' ? `${record.reason}: ${record.detail}` : null;
  const reason =
    rejectReason ??
    lastError ??
    failure ??
    (status ? `record is ${status}, no error recorded` : 'never reached the index (no record)');
  return { ...base, fileId: parsed.job.fileId, chatId: parsed.job.chatId ?? null, reason, recordStatus: status };
}

export interface RedriveOutcome {
  messageId: string;
  fileId: string | null;
  /** `redriven` with what happened to the record, `left` (not a valid job: it would only come back), or `not_found`. */
  result: 'redriven' | 'left' | 'not_found';
  record?: RedriveReset | undefined;
  reason?: string | undefined;
}

/** Sends the chosen dead letters (every one with `ids` undefined) back to the ingest queue. */
export async function redriveDeadLetters(
  deps: DeadLetterDeps,
  ids: readonly string[] | undefined,
  max: number,
): Promise<RedriveOutcome[]> {
  return withReceived(deps, max, async (messages) => {
    const chosen = ids === undefined ? messages : messages.filter((m) => ids.includes(m.MessageId ?? ''));
    const consumed = new Set<string>();
    const outcomes: RedriveOutcome[] = [];
    for (const m of chosen) {
      const messageId = m.MessageId ?? '';
      const parsed = parseJob(m.Body ?? '');
      if (!parsed.ok) {
        outcomes.push({
          messageId,
          fileId: null,
          result: 'left',
          reason: m.MessageAttributes?.['rejectReason']?.StringValue ?? parsed.reason,
        });
        continue;
      }
      const record = await new DynamoDbRedriveReset(deps.doc, deps.table).reset(parsed.job.fileId, deps.now());
      await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.queueUrl, MessageBody: m.Body ?? '' }));
      await deps.sqs.send(
        new DeleteMessageCommand({ QueueUrl: deps.deadLetterQueueUrl, ReceiptHandle: m.ReceiptHandle ?? '' }),
      );
      consumed.add(messageId);
      outcomes.push({ messageId, fileId: parsed.job.fileId, result: 'redriven', record });
    }
    const found = new Set(messages.map((m) => m.MessageId));
    for (const id of ids ?? []) if (!found.has(id)) outcomes.push({ messageId: id, fileId: null, result: 'not_found' });
    return { result: outcomes, consumed };
  });
}
