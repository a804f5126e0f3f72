import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The DynamoDB document client every function uses (re-exported by aws-clients.ts); a module without
 * the S3 and SQS clients, so the lookup imports DynamoDB alone at cold start.
 */
export function createDocumentClient(
  opts: { endpoint?: string | undefined; region?: string | undefined } = {},
): DynamoDBDocumentClient {
  const base = new DynamoDBClient({
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.region ? { region: opts.region } : opts.endpoint ? { region: 'us-east-1' } : {}),
  });
  return DynamoDBDocumentClient.from(base, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
