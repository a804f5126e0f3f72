/**
 * The ingest queue as the batch processor sees it (a port): the two actions it takes itself. Deleting
 * a message is the event source's job (a message reported as succeeded is deleted). The SQS
 * implementation is shared/platform/sqs-ingest-queue.ts; unit tests use an in-memory one.
 */
export interface IngestQueue {
  /** Hides a received message for `seconds` (0 to 43,200) before its next delivery. */
  changeVisibility(receiptHandle: string, seconds: number): Promise<void>;
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
}
