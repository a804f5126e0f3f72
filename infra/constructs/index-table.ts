import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
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
