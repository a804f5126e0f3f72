/**
 * The ingest queue as the batch processor sees it (a port): the three actions it takes itself. Deleting
 * a message is the event source's job (a message reported as succeeded is deleted). The SQS
 * implementation is shared/platform/sqs-ingest-queue.ts; unit tests use an in-memory one.
 */
export interface IngestQueue {
  /** Hides a received message for `seconds` (0 to 43,200) before its next delivery. */
  changeVisibility(receiptHandle: string, seconds: number): Promise<void>;
  /**
   * Sends a copy of a message back to the ingest queue, invisible for `delaySeconds` (0 to 900), with
   * `deferrals` in its DEFERRALS_ATTRIBUTE: a wait that does not use one of the job's receives.
   */
  sendDelayedCopy(message: { messageId: string; body: string }, delaySeconds: number, deferrals: number): Promise<void>;
  /** Copies a message to the dead-letter queue, with why it was rejected and its original id. */
  sendToDeadLetterQueue(message: { messageId: string; body: string }, reason: string): Promise<void>;
}

/** One received message, as the event source hands it over. */
export interface IngestMessage {
  messageId: string;
  body: string;
  receiptHandle: string;
  /** Deliveries so far, this one included. */
  receiveCount: number;
  /** Times the job was deferred before this message was sent (its DEFERRALS_ATTRIBUTE; 0 when absent). */
  deferrals: number;
}

/** The message attribute (SQS Number) that carries a job's deferral count on its delayed copies. */
export const DEFERRALS_ATTRIBUTE = 'deferrals';

/** The deferral count from the attribute's string value: a whole number from 0, else 0. */
export function parseDeferrals(value: string | undefined): number {
  if (value === undefined || !/^\d{1,9}$/.test(value.trim())) return 0;
  return Number(value.trim());
}
