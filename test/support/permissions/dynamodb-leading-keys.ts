import { INDEX_TABLE_KEYS, WEBHOOK_REPLAY_TABLE_KEYS } from '../../../shared/contracts/table-keys.js';
import type { ResourceName } from './deployed-permissions.js';

/**
 * The partition key attribute of each deployed table, as the code's contracts name it. The checker
 * compares it with the table's KeySchema in the synthesized template on every call it evaluates
 * (iam-requests.ts), so a key schema change cannot leave the recorder reading the wrong attribute.
 */
export const PARTITION_KEY_OF: Partial<Record<ResourceName, string>> = {
  indexTable: INDEX_TABLE_KEYS.partitionKey.name,
  webhookReplayTable: WEBHOOK_REPLAY_TABLE_KEYS.partitionKey.name,
};

/**
 * The partition key values a DynamoDB request touches, per table: what AWS puts in the request's
 * `dynamodb:LeadingKeys` condition key. What AWS documents:
 * - DynamoDB Developer Guide, "Using IAM policy conditions for fine-grained access control": the key
 *   is the partition key (the first key attribute) of the items a request accesses; its name is
 *   plural even for single-item actions, and a policy must test it with a set operator (ForAllValues).
 * - IAM User Guide, "Allows item-level access to DynamoDB based on an Amazon Cognito ID": one
 *   ForAllValues:StringEquals condition on it governs GetItem, PutItem, UpdateItem, DeleteItem and
 *   Query alike, i.e. a Query is judged by the partition its key condition names.
 * - IAM User Guide, "Multivalued context key examples": ForAllValues is true when the request has
 *   no value for the key. A Scan names no partition, so a ForAllValues:…LeadingKeys grant never
 *   limits a Scan: no such grant may include Scan.
 * So, per operation (the batch and transaction cases follow from "the items a request accesses"):
 * - GetItem, UpdateItem, DeleteItem: the partition key of `Key`; PutItem: that of `Item`;
 * - Query: the value of the key condition's partition key equality test (`pk = :v`, which a Query
 *   must have), or of the legacy `KeyConditions`;
 * - BatchGetItem, BatchWriteItem: every key (Put or Delete request) of each table;
 * - TransactWriteItems, TransactGetItems: each item's own (each item is authorized on its own);
 * - Scan: none.
 * Only key attributes are read, never item bodies. A table whose partition key is not known here
 * (not bound to a deployed table) gets no entry, and the checker refuses the call for its binding.
 */
export function leadingKeysOf(
  operation: string,
  input: Record<string, unknown>,
  partitionKeyOfTable: (table: string) => string | undefined,
): { byTable?: Record<string, string[]>; transactItems?: string[][] } {
  const table = typeof input['TableName'] === 'string' ? input['TableName'] : undefined;
  const pkOf = (t: string | undefined) => (t === undefined ? undefined : partitionKeyOfTable(t));
  const single = (keyField: 'Key' | 'Item') => {
    const pk = pkOf(table);
    const value = pk === undefined ? undefined : keyValue(asRecord(input[keyField])[pk]);
    return table !== undefined && value !== undefined ? { byTable: { [table]: [value] } } : {};
  };
  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return single('Key');
    case 'PutItem':
      return single('Item');
    case 'Query': {
      const pk = pkOf(table);
      if (table === undefined || pk === undefined) return {};
      // A Query of an index names the index's partition key in its key condition (the one equality
      // test a key condition must have). AWS documents dynamodb:LeadingKeys as the table's partition
      // key, and says nothing of indexes; the value recorded is the index partition the query reads,
      // and no grant of this app conditions an index query on it.
      const value = typeof input['IndexName'] === 'string' ? firstEquality(input) : queryPartition(input, pk);
      return value === undefined ? {} : { byTable: { [table]: [value] } };
    }
    case 'BatchGetItem':
    case 'BatchWriteItem': {
      const byTable: Record<string, string[]> = {};
      for (const [t, request] of Object.entries(asRecord(input['RequestItems']))) {
        const pk = pkOf(t);
        if (pk === undefined) continue;
        const keys =
          operation === 'BatchGetItem'
            ? asArray(asRecord(request)['Keys'])
            : asArray(request).map((r) => {
                const write = asRecord(r);
                return asRecord(write['PutRequest'])['Item'] ?? asRecord(write['DeleteRequest'])['Key'];
              });
        byTable[t] = [
          ...new Set(keys.map((k) => keyValue(asRecord(k)[pk])).filter((v): v is string => v !== undefined)),
        ];
      }
      return { byTable };
    }
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return {
        transactItems: asArray(input['TransactItems']).map((item) => {
          const body = asRecord(Object.values(asRecord(item))[0]);
          const pk = pkOf(typeof body['TableName'] === 'string' ? body['TableName'] : undefined);
          const value = pk === undefined ? undefined : keyValue(asRecord(body['Key'] ?? body['Item'])[pk]);
          return value === undefined ? [] : [value];
        }),
      };
    default:
      return {};
  }
}

/** The value the key condition tests the partition key for equality with. */
function queryPartition(input: Record<string, unknown>, pk: string): string | undefined {
  const names = asRecord(input['ExpressionAttributeNames']);
  const values = asRecord(input['ExpressionAttributeValues']);
  const expression = input['KeyConditionExpression'];
  if (typeof expression === 'string') {
    const nameOf = (token: string) => (token.startsWith('#') ? names[token] : token);
    for (const m of expression.matchAll(/([#:]?[A-Za-z_]\w*)\s*=\s*([#:]?[A-Za-z_]\w*)/g)) {
      const [left, right] = [m[1] ?? '', m[2] ?? ''];
      if (nameOf(left) === pk && right.startsWith(':')) return keyValue(values[right]);
      if (nameOf(right) === pk && left.startsWith(':')) return keyValue(values[left]);
    }
    return undefined;
  }
  const legacy = asRecord(asRecord(input['KeyConditions'])[pk]);
  return legacy['ComparisonOperator'] === 'EQ' ? keyValue(asArray(legacy['AttributeValueList'])[0]) : undefined;
}

/** The value of the first `name = :value` test of a key condition expression. */
function firstEquality(input: Record<string, unknown>): string | undefined {
  const values = asRecord(input['ExpressionAttributeValues']);
  const expression = input['KeyConditionExpression'];
  if (typeof expression !== 'string') return undefined;
  const m = /([#:]?[A-Za-z_]\w*)\s*=\s*([#:]?[A-Za-z_]\w*)/.exec(expression);
  if (!m) return undefined;
  const token = [m[1] ?? '', m[2] ?? ''].find((t) => t.startsWith(':'));
  return token === undefined ? undefined : keyValue(values[token]);
}

/** A key value as IAM compares it: the document client's plain value, or a marshalled `{S}` / `{N}`. */
function keyValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  const attr = asRecord(v);
  if (typeof attr['S'] === 'string') return attr['S'];
  if (typeof attr['N'] === 'string') return attr['N'];
  return undefined;
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
