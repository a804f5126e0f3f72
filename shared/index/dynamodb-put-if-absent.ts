import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Creates an item only where none has its key (a conditional PutItem): true when this call created
 * it, false when one was there already. Every other failure is thrown.
 */
export async function putIfAbsent(
  doc: DynamoDBDocumentClient,
  table: string,
  item: Record<string, unknown> & { pk: string; sk: string },
): Promise<boolean> {
  try {
    await doc.send(new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}
