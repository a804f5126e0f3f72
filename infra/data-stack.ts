import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { CONSOLE_DOWNLOAD_ORIGIN } from './constructs/auditor-console.js';
import type { DeploymentConfig } from './deployment-config.js';
import { ArchiveBucket } from './constructs/archive-bucket.js';
import { IndexTable } from './constructs/index-table.js';
import { ExportsBucket } from './constructs/exports-bucket.js';
import { IngestQueues } from './constructs/ingest-queues.js';
import { EXPORT_MAX_RECEIVE_COUNT, EXPORT_VISIBILITY_TIMEOUT } from './sizing.js';
import { WebhookStore } from './constructs/webhook-store.js';
import { archiveBucketName, exportsBucketName } from './naming.js';

export interface DataStackProps extends StackProps {
  readonly config: DeploymentConfig;
  /** Prefix of physical names and aliases, e.g. `claude-file-archiver-prod`. */
  readonly namePrefix: string;
}

/**
 * Everything that holds data or protects it: keys, archive and log buckets, index table, queues and
 * the upstream key's secret. Nothing here changes when code changes, so a function deploy (the
 * service stack) can never replace or delete data. Every resource is retained if the stack is
 * deleted, and the stack has termination protection.
 */
export class DataStack extends Stack {
  /** Encrypts the archived objects and the index (what auditors read through the lookup API). */
  readonly archiveKey: kms.Key;
  /**
   * Encrypts the job queues, the upstream key's secret and the webhook's secret and replay ids (never read by
   * auditors).
   */
  readonly pipelineKey: kms.Key;
  readonly archive: ArchiveBucket;
  readonly index: IndexTable;
  readonly queues: IngestQueues;
  readonly upstreamApiKey: secretsmanager.Secret;
  /** The webhook's signing secret(s) and its replay-id table. */
  readonly webhook: WebhookStore;
  /** eDiscovery exports: the bags' bucket and the export worker's queue (and its dead letters). */
  readonly exports: ExportsBucket;
  readonly exportQueues: IngestQueues;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, { terminationProtection: true, ...props });
    const { config, namePrefix } = props;

    // Two keys, so that the lookup path (auditors) can decrypt the archive and index but never the
    // queue contents or the upstream key, and the ingest path's key grants stay narrow.
    this.archiveKey = new kms.Key(this, 'ArchiveKey', {
      alias: `alias/${namePrefix}/archive`,
      description: 'Claude file archiver: archived objects and their index',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    this.pipelineKey = new kms.Key(this, 'PipelineKey', {
      alias: `alias/${namePrefix}/pipeline`,
      description: 'Claude file archiver: ingest job queues and the upstream API key secret',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });

    this.archive = new ArchiveBucket(this, 'Archive', {
      bucketName: archiveBucketName(this, namePrefix),
      encryptionKey: this.archiveKey,
      retentionMode: config.retentionMode,
      retentionDays: config.retentionDays,
      transition:
        config.archiveTransitionDays === undefined
          ? undefined
          : { afterDays: config.archiveTransitionDays, storageClass: config.archiveStorageClass },
      // The console's CloudFront domain is made by the service stack, which deploys after this one,
      // so the rule names CloudFront's domain, one "*" as S3 allows; the signature is the control.
      browserDownloadOrigins: config.console === 'create' ? [CONSOLE_DOWNLOAD_ORIGIN] : [],
    });
    this.index = new IndexTable(this, 'Index', { encryptionKey: this.archiveKey });
    this.queues = new IngestQueues(this, 'Ingest', {
      encryptionKey: this.pipelineKey,
      maxReceiveCount: config.maxReceiveCount,
    });

    // No value is given here: CloudFormation fills the secret with a random placeholder (so the
    // template never holds a key), and the operator puts the real Compliance API key after deploy.
    // Until then the ingest function's upstream calls fail with 401 and the auth alarm fires.
    this.upstreamApiKey = new secretsmanager.Secret(this, 'UpstreamApiKey', {
      description:
        'Anthropic Compliance API key used by the Claude file archiver. ' +
        'Set with: aws secretsmanager put-secret-value --secret-id <arn> ' +
        '--secret-string <key>',
      encryptionKey: this.pipelineKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.upstreamApiKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The value is an Anthropic-issued API key: it can only be rotated ' +
        'by issuing a new key in the Anthropic console, which no rotation ' +
        'Lambda can do. Rotation is an operator procedure documented ' +
        'in docs/deployment.md.',
    });

    this.webhook = new WebhookStore(this, 'Webhook', { encryptionKey: this.pipelineKey });

    this.exports = new ExportsBucket(this, 'Exports', {
      bucketName: exportsBucketName(this, config.environment),
      encryptionKey: this.archiveKey,
      accessLogsBucket: this.archive.accessLogsBucket as s3.IBucket,
      expireAfterDays: config.exportExpireDays,
    });
    this.exportQueues = new IngestQueues(this, 'Export', {
      encryptionKey: this.pipelineKey,
      maxReceiveCount: EXPORT_MAX_RECEIVE_COUNT,
      visibilityTimeout: EXPORT_VISIBILITY_TIMEOUT,
    });

    new CfnOutput(this, 'ArchiveBucketName', { value: this.archive.bucket.bucketName });
    new CfnOutput(this, 'IndexTableName', { value: this.index.table.tableName });
    new CfnOutput(this, 'IngestQueueUrl', { value: this.queues.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.queues.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'UpstreamApiKeySecretArn', { value: this.upstreamApiKey.secretArn });
    new CfnOutput(this, 'WebhookSecretArn', { value: this.webhook.secret.secretArn });
    new CfnOutput(this, 'ExportsBucketName', { value: this.exports.bucket.bucketName });
    new CfnOutput(this, 'ExportQueueUrl', { value: this.exportQueues.queue.queueUrl });
    new CfnOutput(this, 'WebhookReplayTableName', { value: this.webhook.replayTable.tableName });
  }
}
