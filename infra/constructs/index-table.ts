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
 * As grantItemAccess, but only on items whose partition key starts with one of `keyPrefixes`: the
 * grant carries `ForAllValues:StringLike` on `dynamodb:LeadingKeys`, so a call touching any other
 * partition is refused. (The condition limits item access by partition key:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html.)
 */
export function grantLeadingKeys(
  table: dynamodb.Table,
  grantee: iam.IGrantable,
  actions: `dynamodb:${string}`[],
  keyPrefixes: readonly string[],
): void {
  const key = table.encryptionKey;
  if (!(key instanceof kms.Key))
    throw new Error('the index table is encrypted with a customer-managed key of this app');
  if (keyPrefixes.length === 0) throw new Error('a leading-keys grant needs at least one key prefix');
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions,
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keyPrefixes.map((p) => `${p}*`) } },
    }),
  );
  key.grants.actions(grantee, 'kms:Decrypt');
}
