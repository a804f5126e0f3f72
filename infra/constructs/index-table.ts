import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { INDEX_TABLE_KEYS } from '../../shared/contracts/table-keys.js';

export interface IndexTableProps {
  readonly encryptionKey: kms.IKey;
}

/** Maps the shared schema's attribute types onto CDK's, so the key schema is written once. */
const ATTRIBUTE_TYPES: Record<'S' | 'N' | 'B', dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

/**
 * The file index. Its key schema comes from shared/contracts/table-keys.ts, the same definition the core's
 * repository uses. On-demand billing (ingest is bursty and small), point-in-time recovery and
 * deletion protection, because the index is the evidence of what was archived and when.
 */
export class IndexTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: IndexTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: {
        name: INDEX_TABLE_KEYS.partitionKey.name,
        type: ATTRIBUTE_TYPES[INDEX_TABLE_KEYS.partitionKey.type],
      },
      sortKey: {
        name: INDEX_TABLE_KEYS.sortKey.name,
        type: ATTRIBUTE_TYPES[INDEX_TABLE_KEYS.sortKey.type],
      },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
      // Working-memory items (seen activity ids) carry an expiry; evidence never does (table-keys.ts).
      timeToLiveAttribute: INDEX_TABLE_KEYS.timeToLiveAttribute,
    });
  }
}

/**
 * Grants `actions` on the table and the one key action a caller of a table encrypted with a
 * customer-managed key needs: kms:Decrypt. DynamoDB decrypts the table key on the caller's behalf
 * when the caller first reaches the table and again after five minutes without use (the CloudTrail
 * Decrypt event names the caller). The other key permissions DynamoDB's documentation lists for a
 * customer-managed key (Encrypt, ReEncrypt*, GenerateDataKey*, DescribeKey, CreateGrant) are used
 * on behalf of the principal that selects the key, i.e. creates or updates the table (CloudFormation
 * here), and by DynamoDB itself under the grant it creates then: DescribeKey to check the selected
 * key, GenerateDataKey to make the table key. No item read or write asks for them.
 */
export function grantItemAccess(
  table: dynamodb.Table,
  grantee: iam.IGrantable,
  ...actions: `dynamodb:${string}`[]
): void {
  const key = table.encryptionKey;
  if (!(key instanceof kms.Key))
    throw new Error('the index table is encrypted with a customer-managed key of this app');
  table.grants.actions(grantee, ...actions);
  key.grants.actions(grantee, 'kms:Decrypt');
}

/**
 * Grants `actions` on the items of the partitions `leadingKeys` names (StringLike patterns: `*`
 * matches any run of characters) and kms:Decrypt on the table's key (as grantItemAccess). The
 * condition key `dynamodb:LeadingKeys` holds the partition key of every item a request touches, is
 * tested with ForAllValues, and governs GetItem, PutItem, UpdateItem, DeleteItem, Query and
 * BatchGetItem alike ("Using IAM policy conditions for fine-grained access control",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html). A
 * request without the key (Scan) passes a ForAllValues test, so Scan must never be granted this way.
 */
export function grantPartitionAccess(
  table: dynamodb.Table,
  grantee: iam.IGrantable,
  leadingKeys: readonly string[],
  ...actions: `dynamodb:${string}`[]
): void {
  if (actions.includes('dynamodb:Scan')) throw new Error('a leading-keys grant cannot limit a Scan');
  const key = table.encryptionKey;
  if (!(key instanceof kms.Key))
    throw new Error('the index table is encrypted with a customer-managed key of this app');
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions,
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...leadingKeys] } },
    }),
  );
  key.grants.actions(grantee, 'kms:Decrypt');
}
