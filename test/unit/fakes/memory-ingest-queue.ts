import type { IngestQueue } from '../../../shared/ingest/ingest-queue.js';

/** The ingest queue in memory: what the batch processor asked of it. */
export class MemoryIngestQueue implements IngestQueue {
  readonly visibilityChanges: { receiptHandle: string; seconds: number }[] = [];
  readonly deadLetters: { messageId: string; body: string; reason: string }[] = [];
  readonly delayedCopies: { messageId: string; body: string; delaySeconds: number; deferrals: number }[] = [];
  /** Thrown by the next call instead of acting (an SQS outage, say). */
  failNext: unknown;

  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    this.maybeFail();
    this.visibilityChanges.push({ receiptHandle, seconds });
  }

  async sendDelayedCopy(
    message: { messageId: string; body: string },
    delaySeconds: number,
    deferrals: number,
  ): Promise<void> {
    this.maybeFail();
    this.delayedCopies.push({ messageId: message.messageId, body: message.body, delaySeconds, deferrals });
  }

  async sendToDeadLetterQueue(message: { messageId: string; body: string }, reason: string): Promise<void> {
    this.maybeFail();
    this.deadLetters.push({ messageId: message.messageId, body: message.body, reason });
  }

  private maybeFail(): void {
    if (this.failNext === undefined) return;
    const err = this.failNext;
    this.failNext = undefined;
    throw err;
  }
}
