import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DEFERRALS_ATTRIBUTE } from '../ingest/ingest-queue.js';
import type { IngestQueue } from '../ingest/ingest-queue.js';

/** The ingest queue and its dead-letter queue over SQS. */
export class SqsIngestQueue implements IngestQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly urls: { queueUrl: string; deadLetterQueueUrl: string },
  ) {}

  async changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.urls.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }

  async sendDelayedCopy(
    message: { messageId: string; body: string },
    delaySeconds: number,
    deferrals: number,
  ): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.urls.queueUrl,
        MessageBody: message.body,
        DelaySeconds: Math.min(900, Math.max(0, Math.floor(delaySeconds))),
        MessageAttributes: {
          [DEFERRALS_ATTRIBUTE]: { DataType: 'Number', StringValue: String(deferrals) },
          sourceMessageId: { DataType: 'String', StringValue: message.messageId },
        },
      }),
    );
  }

  async sendToDeadLetterQueue(message: { messageId: string; body: string }, reason: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.urls.deadLetterQueueUrl,
        // SQS refuses an empty body.
        MessageBody: message.body.length > 0 ? message.body : '(empty body)',
        MessageAttributes: {
          rejectReason: { DataType: 'String', StringValue: reason.slice(0, 1000) },
          sourceMessageId: { DataType: 'String', StringValue: message.messageId },
        },
      }),
    );
  }
}
