import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { WEBHOOK_REPLAY_TABLE_KEYS } from '../../shared/contracts/table-keys.js';

export interface WebhookStoreProps {
  /** The pipeline key: the webhook function already uses it for the queue and the upstream key. */
  readonly encryptionKey: kms.IKey;
}

/**
 * The webhook's state: its signing secret and the table of webhook-ids already seen.
 *
 * The secret holds one JSON document, `{"current": "whsec_…", "previous": "whsec_…"}`, so that a
 * rotation (add the new secret as current and keep the old one as previous, move the senders over,
 * drop previous) is a single atomic write at each step, never two secrets out of step. CloudFormation
 * fills it with a random 48-character `current` (letters and digits are valid base64: 36 bytes), so
 * the endpoint is never open with a known or empty secret; docs/deployment.md shows how to set your
 * own and how to rotate.
 */
export class WebhookStore extends Construct {
  readonly secret: secretsmanager.Secret;
  readonly replayTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: WebhookStoreProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'Standard Webhooks signing secret(s) of the Claude file archiver ' +
        'webhook, as {"current": "whsec_…", "previous": "whsec_…"}. Rotate ' +
        'as docs/deployment.md describes.',
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'current',
        passwordLength: 48,
        excludePunctuation: true,
        includeSpace: false,
      },
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The webhook secret is shared with the systems that sign requests: ' +
        'a rotation must move every sender over while both secrets are ' +
        'accepted, which a rotation Lambda cannot do. It is an operator ' +
        'procedure (current + previous in one document) documented in ' +
        'docs/deployment.md.',
    });

    // Replay ids are bookkeeping, not evidence, but they are kept like every stateful resource here
    // (retained, point-in-time recovery, deletion protection) so that a restore or a stray
    // DeleteTable never re-opens a window of duplicates. Deletion protection makes DeleteTable fail
    // until it is turned off
    // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection).
    this.replayTable = new dynamodb.Table(this, 'ReplayTable', {
      partitionKey: { name: WEBHOOK_REPLAY_TABLE_KEYS.partitionKey.name, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: WEBHOOK_REPLAY_TABLE_KEYS.timeToLiveAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
