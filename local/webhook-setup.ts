import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { WEBHOOK_REPLAY_TABLE_KEYS } from '../shared/contracts/table-keys.js';

/** A fresh Standard Webhooks secret: `whsec_` and 32 random bytes in base64, as senders expect. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The secret document the webhook function reads (the deployed secret holds the same JSON). */
export function webhookSecretDocument(current: string, previous?: string): string {
  return JSON.stringify({ current, ...(previous ? { previous } : {}) });
}

/**
 * Creates the webhook replay table (key schema of shared/contracts/table-keys.ts) unless it exists.
 * No TimeToLive is set: dynalite has no UpdateTimeToLive, and the code never relies on expiry.
 */
export async function ensureReplayTable(ddb: DynamoDBDocumentClient, name: string): Promise<void> {
  const key = WEBHOOK_REPLAY_TABLE_KEYS.partitionKey;
  try {
    await ddb.send(new DescribeTableCommand({ TableName: name }));
    return;
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ResourceNotFoundException')) throw err;
  }
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: key.name, AttributeType: key.type }],
        KeySchema: [{ AttributeName: key.name, KeyType: 'HASH' }],
      }),
    );
  } catch (err) {
    if (!(err instanceof Error && err.name === 'ResourceInUseException')) throw err;
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${name} did not become ACTIVE`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
