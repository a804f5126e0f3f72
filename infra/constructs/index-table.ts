import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { INDEX_TABLE_KEYS } from '../../shared/contracts/table-keys.js';
import { ALL_INDEXES, TRAIL_PARTITION_PREFIX } from '../../shared/contracts/search-index.js';

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
    // Search and access-trail indexes (shared/contracts/search-index.ts): sparse, all attributes
    // projected so a page of results is one Query. Adding indexes to a deployed table builds each from
    // the existing items (CloudFormation updates one GSI at a time; "Adding a global secondary index
    // to an existing table", DynamoDB Developer Guide); `archiver reindex` then writes the search keys
    // of file items written before they existed.
    for (const index of ALL_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}

/**
 * Grants `actions` on the table and the one key action a caller of a table encrypted with a
 * customer-managed key needs, for reads and writes alike: kms:Decrypt. DynamoDB encrypts items with
 * data keys protected by a table key, which it generated once, when the table was created, with a
 * GenerateDataKey call made by the DynamoDB service itself (CloudTrail: userIdentity AWSService). An
 * item read or write only needs the plaintext table key: "When you access an encrypted table,
 * DynamoDB needs to decrypt the table key ... DynamoDB sends a Decrypt request to AWS KMS", and in
 * that event "the user is the principal in your AWS account who is accessing the table"; DynamoDB
 * caches the table key and asks again after five minutes without use
 * (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html, "Table keys",
 * "Table key caching" and "Monitoring DynamoDB interaction with AWS KMS"). The other key
 * permissions listed there for a customer-managed key (Encrypt, ReEncrypt*, GenerateDataKey*,
 * DescribeKey, CreateGrant) are for the principal that selects the key, i.e. creates or updates the
 * table (CloudFormation here), and for DynamoDB itself under the grant it creates then. The
 * integration suite checks every recorded DynamoDB call of each role against this grant with the
 * policy simulator (test/support/permissions/iam-requests.ts maps each call to kms:Decrypt via
 * DynamoDB).
 */
export function grantItemAccess(
  table: dynamodb.Table,
  grantee: iam.IGrantable,
  ...actions: `dynamodb:${string}`[]
): void {
  const key = table.encryptionKey;
  if (!(key instanceof kms.Key))
    throw new Error('the index table is encrypted with a customer-managed key of this app');
  // On the table alone: Table.grants would add table/<name>/index/* to every grant once the table has
  // indexes, and only the lookup role reads them (grantIndexQuery).
  iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [table.tableArn] });
  key.grants.actions(grantee, 'kms:Decrypt');
}

/**
 * dynamodb:Query on the named indexes of the table, each by its ARN (table/<name>/index/<index>: a
 * Query of an index is authorized on the index's ARN, "Amazon DynamoDB: Allows access to a specific
 * table and all its indexes", IAM User Guide), and the table key's kms:Decrypt.
 */
export function grantIndexQuery(table: dynamodb.Table, grantee: iam.IGrantable, indexNames: readonly string[]): void {
  const key = table.encryptionKey;
  if (!(key instanceof kms.Key))
    throw new Error('the index table is encrypted with a customer-managed key of this app');
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['dynamodb:Query'],
    resourceArns: indexNames.map((name) => `${table.tableArn}/index/${name}`),
  });
  key.grants.actions(grantee, 'kms:Decrypt');
}

/**
 * Denies `grantee` every item write on the access trail's partitions (TRAIL#…), which its item grant
 * would otherwise cover: only the lookup role writes the trail, and only by creating events. An
 * explicit Deny wins over any Allow ("Policy evaluation logic", IAM User Guide); ForAnyValue matches a
 * request touching any TRAIL# partition (dynamodb:LeadingKeys is multivalued) and, having no values,
 * never matches a Scan, which writes nothing.
 */
export function denyTrailWrites(table: dynamodb.Table, grantee: iam.IGrantable): void {
  const statement = new iam.PolicyStatement({
    sid: 'NoAccessTrailWrites',
    effect: iam.Effect.DENY,
    actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
    resources: [table.tableArn],
    conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${TRAIL_PARTITION_PREFIX}*`] } },
  });
  // A managed policy takes the statement itself (its grant principal would not add a Deny to it).
  if (grantee instanceof iam.ManagedPolicy) grantee.addStatements(statement);
  else grantee.grantPrincipal.addToPrincipalPolicy(statement);
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
