import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ExportMessage } from '../contracts/exports.js';

/** The export queue: one message per export run to do (the first, and each continuation). */
export function createSqsExportQueue(
  sqs: SQSClient,
  queueUrl: string,
): { send(message: ExportMessage): Promise<void> } {
  return {
    async send(message) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
    },
  };
}
