// Over 400 lines: it wires every function to its grants; the grants of the workbench (holds, exports,
// fixity, operator) should move into their own constructs (issue 15 note).
import { CfnOutput, Duration, Names, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import type {
  ExportConfig,
  IngestConfig,
  LookupConfig,
  WorkerBudgetConfig,
} from '../shared/contracts/lambda-environment.js';
import {
  DISCOVERY_SOURCES,
  type DiscoverySource,
  POLLER_SOURCES,
  type PollerSource,
} from '../shared/contracts/discovery-sources.js';
import { SERVICE_NAMES } from '../shared/contracts/metric-names.js';
import { ARCHIVE_KEY_PREFIX } from '../shared/contracts/object-keys.js';
import { ALL_INDEXES, TRAIL_INDEXES, TRAIL_PARTITION_PREFIX } from '../shared/contracts/search-index.js';
import { KEY_PREFIXES, MATTER_PARTITION } from '../shared/contracts/table-keys.js';
import { SWEEP_INDEX_NAMES } from '../shared/holds/sweep-sources.js';
import { EXPORT_SCOPE_INDEX_NAMES } from '../shared/export/candidate-reads.js';
import type { DeploymentConfig } from './deployment-config.js';
import { ArchiverFunction } from './constructs/archiver-function.js';
import { AuditorConsole } from './constructs/auditor-console.js';
import { DiscoveryPollers } from './constructs/discovery-pollers.js';
import { FixityAudit } from './constructs/fixity-audit.js';
import { denyTrailWrites, grantIndexQuery, grantItemAccess, grantLeadingKeys } from './constructs/index-table.js';
import { allowBrowserOrigin, LookupApi } from './constructs/lookup-rest-api.js';
import { Monitoring } from './constructs/monitoring.js';
import { WebhookIngress } from './constructs/webhook-ingress.js';
import { archiveBucketName, exportsBucketName } from './naming.js';
import { acknowledgeWildcardResource } from './nag.js';
import type { DataStack } from './data-stack.js';
import {
  EXPORT_MEMORY_MB,
  exportV8Flags,
  EXPORT_TIMEOUT,
  INGEST_LEASE_SECONDS,
  INGEST_TIMEOUT,
  LOOKUP_MEMORY_MB,
  LOOKUP_TIMEOUT,
} from './sizing.js';
import { SERVICE_STACK_OUTPUTS } from '../shared/contracts/stack-outputs.js';
import { EXPORT_KEY_PREFIX } from '../shared/contracts/exports.js';
import { RARE_ROUTES_BUNDLE, RARE_ROUTES_ENTRY } from '../lambdas/lookup/rare-routes-file.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/** The handler entry points (written by the core, not here). */
export const HANDLER_ENTRIES = {
  ingest: `${PROJECT_ROOT}/lambdas/ingest/handler.ts`,
  lookup: `${PROJECT_ROOT}/lambdas/lookup/handler.ts`,
  webhook: `${PROJECT_ROOT}/lambdas/webhook/handler.ts`,
  export: `${PROJECT_ROOT}/lambdas/export/handler.ts`,
} as const;

/** Each poller's schedule: its deployment context key when the registry names one, else the registry's default. */
export function pollerScheduleMinutes(config: DeploymentConfig): Record<PollerSource, number> {
  return Object.fromEntries(
    POLLER_SOURCES.map((source) => {
      const spec: DiscoverySource = DISCOVERY_SOURCES[source];
      return [source, spec.scheduleConfigKey ? config[spec.scheduleConfigKey] : spec.scheduleMinutes];
    }),
  ) as Record<PollerSource, number>;
}

/** Variables the infrastructure may set: the schema's keys minus the local-only ones. */
type DeployedEnv<C> = Exclude<keyof C & string, `LOCAL_${string}` | 'ANTHROPIC_API_KEY'>;

export interface ServiceStackProps extends StackProps {
  readonly config: DeploymentConfig;
  readonly namePrefix: string;
  readonly data: DataStack;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Code and everything that can be replaced without touching data: the functions, the lookup API,
 * the webhook API, the auditor policy, alarms and dashboard. Deployed after (and depending on) the data stack.
 */
export class ServiceStack extends Stack {
  readonly ingest: ArchiverFunction<DeployedEnv<IngestConfig & WorkerBudgetConfig>>;
  readonly lookup: ArchiverFunction<DeployedEnv<LookupConfig>>;
  readonly exportWorker: ArchiverFunction<DeployedEnv<ExportConfig>>;
  readonly lookupApi: LookupApi;
  readonly webhook: WebhookIngress;
  readonly monitoring: Monitoring;
  readonly discovery: DiscoveryPollers;
  readonly fixity: FixityAudit;
  /** Absent when the deployment sets `console` to `none`. */
  readonly auditorConsole: AuditorConsole | undefined;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config, data, namePrefix } = props;
    // The bucket by its deterministic name in this stack's own account and region (naming.ts), not
    // by a token from the data stack; its key is still the data stack's.
    const bucket = s3.Bucket.fromBucketAttributes(this, 'ArchiveBucket', {
      bucketName: archiveBucketName(this, namePrefix),
      encryptionKey: data.archiveKey,
    });
    const bucketGrants = s3.BucketGrants.fromBucket(bucket);
    const archiveObjects = bucket.arnForObjects('*');
    const table = data.index.table;
    const { queue, deadLetterQueue } = data.queues;

    this.ingest = new ArchiverFunction<DeployedEnv<IngestConfig & WorkerBudgetConfig>>(this, 'Ingest', {
      entry: HANDLER_ENTRIES.ingest,
      projectRoot: PROJECT_ROOT,
      description: 'Archives one Claude file per SQS job into the Object Lock bucket and indexes it',
      serviceName: SERVICE_NAMES.ingest,
      // Memory buys CPU more than buffers: the records of a batch are archived at once, each file
      // holding (uploadConcurrency + 2) parts (5 × 6 × 8 MiB = 240 MB by default; the deployment
      // configuration refuses a memory size that cannot hold a full batch, sizing.ts), but MD5 +
      // SHA-256 over every byte plus TLS in and out are CPU-bound, and Lambda allots CPU in proportion
      // to memory (1769 MB = 1 vCPU). 1024 MB (~0.6 vCPU) sustains the 50-90 MB/s measured locally,
      // i.e. 6-10 s for a 500 MB file, at an acceptable GB-second price.
      memorySize: config.ingestMemoryMb,
      timeout: INGEST_TIMEOUT,
      logLevel: config.logLevel,
      logRetention: props.logRetention,
    });
    this.ingest
      .bind('ARCHIVE_BUCKET', bucket.bucketName, (g) => {
        // s3:PutObject covers PutObject and the multipart calls the writer makes (Create, UploadPart,
        // Complete); Abort has its own action. The writer never lists parts (ListParts, i.e.
        // s3:ListMultipartUploadParts): it keeps each part's ETag. Recovering an object committed by
        // a crashed attempt is a listing of exactly its key, then a re-hash of its current version
        // (GetObject without a VersionId: s3:GetObject only, not s3:GetObjectVersion).
        // SSE-KMS: S3 uses the bucket's key on the caller's behalf, kms:GenerateDataKey for a new
        // object or upload, kms:Decrypt for each part and for a read; never kms:Encrypt.
        bucketGrants.actionsOnObjectKeys(
          g,
          '*',
          's3:PutObject',
          's3:GetObject',
          's3:AbortMultipartUpload',
          'kms:GenerateDataKey',
          'kms:Decrypt',
        );
        // Whether a key already holds an object is asked with ListObjectsV2 (Prefix = the key): S3
        // answers a HeadObject or GetObject of a missing key with 403, not 404, to a caller without
        // s3:ListBucket. Listing is limited to prefixes under the archive layout; a read carries no
        // s3:prefix, so this grant does not turn a missing key's 403 into 404, and the code never asks.
        iam.Grant.addToPrincipal({
          grantee: g,
          actions: ['s3:ListBucket'],
          resourceArns: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': `${ARCHIVE_KEY_PREFIX}*` } },
        });
        // Legal holds (shared/holds/): the sweep of a matter's hold-work messages and the hold of a
        // file archived in an active matter's scope turn a version's legal hold ON and, on release,
        // OFF. s3:PutObjectLegalHold does both, for a given VersionId too (there is no separate
        // version action); on the archive's keys only
        // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-permissions).
        bucketGrants.actionsOnObjectKeys(g, `${ARCHIVE_KEY_PREFIX}*`, 's3:PutObjectLegalHold');
      })
      .bind('INDEX_TABLE', table.tableName, (g) => {
        // Single items, and for legal holds: a matter's sweep reads its scope through the search
        // indexes (creator, creator email, project, month), a chat's listings (a Query of CHAT#…
        // partitions) and the file items (GetItem); a Scan only for a window with no list and no
        // start (shared/holds/sweep-sources.ts), which cannot be narrowed by dynamodb:LeadingKeys.
        grantItemAccess(table, g, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan');
        grantIndexQuery(table, g, SWEEP_INDEX_NAMES);
        g.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:Query'],
            resources: [table.tableArn],
            conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${KEY_PREFIXES.chat}*`] } },
          }),
        );
        // The active matters, read once per invocation: a Query of the matters' partition only.
        g.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:Query'],
            resources: [table.tableArn],
            conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [MATTER_PARTITION] } },
          }),
        );
        denyTrailWrites(table, g);
      })
      .bind('INGEST_QUEUE_URL', queue.queueUrl, (g) => {
        // The mapping, not SqsEventSource: that one also grants sqs:GetQueueUrl, which nothing here
        // calls (the URL is in the environment). The construct id is SqsEventSource's, so the
        // deployed mapping keeps its logical id.
        this.ingest.function.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(queue.node)}`, {
          eventSourceArn: queue.queueArn,
          batchSize: config.batchSize,
          maxBatchingWindow: Duration.seconds(config.batchWindowSeconds),
          // A failed job is retried alone; the rest of the batch is deleted.
          reportBatchItemFailures: true,
          // The only limit on upstream request rate that holds across invocations: at most this
          // many functions call the Compliance API at once (its budget is 600 requests/min per org).
          maxConcurrency: config.maxConcurrency,
        });
        // Lambda's poller uses the function's role: ReceiveMessage, DeleteMessage and
        // GetQueueAttributes (Lambda's documented execution role permissions for an SQS event
        // source), and kms:Decrypt on the queue's key to receive. None of these is an SDK call of
        // the function's code. ChangeMessageVisibility is one (the core hands a message back this
        // way), and so is SendMessage: the core defers a job (a 429's retry-after, another
        // delivery's lease) by sending a delayed copy back to this queue, so waiting never uses up
        // the job's receives; sending under the queue's key needs kms:GenerateDataKey and kms:Decrypt.
        queue.grants.actions(
          g,
          [
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:ChangeMessageVisibility',
            'sqs:SendMessage',
          ],
          {
            keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          },
        );
      })
      .bind('DEAD_LETTER_QUEUE_URL', deadLetterQueue.queueUrl, (g) =>
        // A malformed job goes straight to the DLQ instead of being retried maxReceiveCount times.
        deadLetterQueue.grants.actions(g, ['sqs:SendMessage'], { keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'] }),
      )
      .bind('ANTHROPIC_API_KEY_SECRET_ARN', data.upstreamApiKey.secretArn, (g) => {
        // Not secret.grantRead(): with a customer-managed key it also writes this role into the
        // key's policy, a reference from the data stack back to this one (a dependency cycle), and
        // it adds DescribeSecret, which the function's secret read (GetSecretValue alone) does not call.
        iam.Grant.addToPrincipal({
          grantee: g,
          actions: ['secretsmanager:GetSecretValue'],
          resourceArns: [data.upstreamApiKey.secretArn],
        });
        data.pipelineKey.grants.actions(g, 'kms:Decrypt');
      })
      .setEnv('ANTHROPIC_BASE_URL', config.upstreamBaseUrl)
      .setEnv('LEASE_SECONDS', String(INGEST_LEASE_SECONDS))
      // The queue's own redrive setting: the delivery with this receive count records the file as failed.
      .setEnv('MAX_RECEIVE_COUNT', String(data.queues.maxReceiveCount))
      // Set explicitly, so the function runs with exactly the values the memory check counted.
      .setEnv('PART_SIZE_MIB', String(config.partSizeMib))
      .setEnv('UPLOAD_CONCURRENCY', String(config.uploadConcurrency))
      // The worker draws every upstream request from the shared budget (items in the index table,
      // already granted above: GetItem, PutItem, UpdateItem).
      .setEnv('COMPLIANCE_REQUESTS_PER_MINUTE', String(config.complianceRequestsPerMinute))
      .setEnv('FILES_API_REQUESTS_PER_MINUTE', String(config.filesApiRequestsPerMinute))
      .setEnv('POLLER_BUDGET_SHARE', String(config.pollerBudgetPercent / 100));

    this.lookup = new ArchiverFunction<DeployedEnv<LookupConfig>>(this, 'Lookup', {
      entry: HANDLER_ENTRIES.lookup,
      projectRoot: PROJECT_ROOT,
      description: 'Answers the lookup API: a chat’s files, a file’s record, a presigned download',
      serviceName: SERVICE_NAMES.lookup,
      memorySize: LOOKUP_MEMORY_MB,
      timeout: LOOKUP_TIMEOUT,
      logLevel: config.logLevel,
      logRetention: props.logRetention,
      // The holds, exports and fixity routes' S3 and SQS clients, loaded on first use.
      lazyModules: { [RARE_ROUTES_BUNDLE]: RARE_ROUTES_ENTRY },
    });
    this.lookup
      .bind('ARCHIVE_BUCKET', bucket.bucketName, (g) =>
        // Only to sign download URLs: the URL carries this role's authority, for one exact version
        // (s3:GetObjectVersion; s3:GetObject for a record without a version id), and S3 decrypts
        // with the bucket's key on the URL holder's behalf.
        bucketGrants.actionsOnObjectKeys(g, '*', 's3:GetObject', 's3:GetObjectVersion', 'kms:Decrypt'),
      )
      // BatchGetItem: the upstream deletions of a file and its chats, in one call.
      .bind('INDEX_TABLE', table.tableName, (g) => {
        // Query: a chat's files and the discovery ledger on the table; the search and trail indexes.
        grantItemAccess(table, g, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query');
        grantIndexQuery(
          table,
          g,
          ALL_INDEXES.map((i) => i.name),
        );
        // The access trail: create events, nothing else. PutItem only, and only on TRAIL# partitions
        // (dynamodb:LeadingKeys is the partition key of the item written; ForAllValues because the key
        // is multivalued: "Using IAM policy conditions for fine-grained access control", DynamoDB
        // Developer Guide). No UpdateItem or DeleteItem on TRAIL# partitions for this role, so an event, once
        // written, cannot be changed or removed by it; the code writes each with attribute_not_exists.
        iam.Grant.addToPrincipal({
          grantee: g,
          actions: ['dynamodb:PutItem'],
          resourceArns: [table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${TRAIL_PARTITION_PREFIX}*`] } },
        });
        // A fixity check on demand records its event on the file item and its chat listings.
        g.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:UpdateItem'],
            resources: [table.tableArn],
            conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${KEY_PREFIXES.file}*`] } },
          }),
        );
        g.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:PutItem'],
            resources: [table.tableArn],
            conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${KEY_PREFIXES.chat}*`] } },
          }),
        );
        // Placing and releasing a legal-hold matter writes the matter's item, and nothing else.
        g.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
            resources: [table.tableArn],
            conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [MATTER_PARTITION] } },
          }),
        );
      })
      // A matter's sweep runs on the ingest queue: the lookup sends its first page (and sending under
      // the queue's key needs kms:GenerateDataKey and kms:Decrypt).
      .bind('HOLD_WORK_QUEUE_URL', queue.queueUrl, (g) =>
        queue.grants.actions(g, ['sqs:SendMessage'], { keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'] }),
      )
      .setEnv('PRESIGN_TTL_SECONDS', String(config.presignTtlSeconds))
      // A release waits out the ingest function's timeout (shared/holds/matters.ts): 900 s, SQS's longest delay.
      .setEnv('HOLD_RELEASE_DELAY_SECONDS', String(Math.min(900, INGEST_TIMEOUT.toSeconds())));

    // Exports (docs/exports.md). The lookup function starts and reads export jobs (their own
    // partition, EXPORT#…), queues them, and presigns a completed bag, which needs s3:GetObject on the
    // bag for the signer and kms:Decrypt of the archive key (already held) for the download.
    // By its deterministic name, as the archive bucket (naming.ts); its key is the archive key.
    const exportsBucket = s3.Bucket.fromBucketAttributes(this, 'ExportsBucket', {
      bucketName: exportsBucketName(this, config.environment),
      encryptionKey: data.archiveKey,
    });
    const exportQueue = data.exportQueues.queue;
    const exportObjects = exportsBucket.arnForObjects(`${EXPORT_KEY_PREFIX}*`);
    this.lookup
      .bind('EXPORTS_BUCKET', exportsBucket.bucketName, (g) => {
        // The signer of a presigned GET needs s3:GetObject itself (a presigned URL carries the
        // signer's permissions: https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html).
        iam.Grant.addToPrincipal({ grantee: g, actions: ['s3:GetObject'], resourceArns: [exportObjects] });
        // Creating a job (PutItem) and marking it failed when it could not be queued (UpdateItem),
        // on export job partitions only; GetItem of a job is the table-wide read the lookup already has.
        grantLeadingKeys(table, g, ['dynamodb:PutItem', 'dynamodb:UpdateItem'], [KEY_PREFIXES.export]);
      })
      .bind('EXPORT_QUEUE_URL', exportQueue.queueUrl, (g) =>
        exportQueue.grants.actions(g, ['sqs:SendMessage'], { keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'] }),
      );

    this.exportWorker = new ArchiverFunction<DeployedEnv<ExportConfig>>(this, 'Export', {
      entry: HANDLER_ENTRIES.export,
      projectRoot: PROJECT_ROOT,
      description: 'Writes eDiscovery exports: BagIt bags streamed from the archive into the exports bucket',
      serviceName: SERVICE_NAMES.export,
      memorySize: EXPORT_MEMORY_MB,
      v8Flags: exportV8Flags(EXPORT_MEMORY_MB),
      timeout: EXPORT_TIMEOUT,
      logLevel: config.logLevel,
      logRetention: props.logRetention,
    });
    // Its runs come from the export queue (a synchronous invocation by the event source mapping); an
    // asynchronous invoke, were one made, is not retried behind the queue's back.
    this.exportWorker.function.configureAsyncInvoke({ retryAttempts: 0 });
    this.exportWorker
      // Reads archived versions (the records name them) and never writes the archive.
      .bind('INDEX_TABLE', table.tableName, (g) => {
        grantItemAccess(table, g, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan');
        grantLeadingKeys(table, g, ['dynamodb:UpdateItem'], [KEY_PREFIXES.export]);
        // The custody report names upstream deletions of each file and its chats: one BatchGetItem of
        // DELETION# items (found by recording the export tests' calls against these grants).
        grantLeadingKeys(table, g, ['dynamodb:BatchGetItem'], [KEY_PREFIXES.deletion]);
        // Each report's access trail: the events naming the file, a Query of the trail's file index only
        // (the table grant above does not cover an index: "Amazon DynamoDB: Allows access to a specific
        // table and all its indexes", IAM User Guide). The matters (GetItem, Query of MATTER) are items
        // of the table, read under the table grant; nothing here writes the trail or a matter.
        grantIndexQuery(table, g, [TRAIL_INDEXES.file.name]);
        // The files of a scope naming users or projects or a closed window, and of a matter naming users or
        // projects: Queries of the creator, creator-email, project and month indexes
        // (shared/export/candidate-reads.ts), under the same rule.
        grantIndexQuery(table, g, EXPORT_SCOPE_INDEX_NAMES);
        bucketGrants.actionsOnObjectKeys(
          g,
          `${ARCHIVE_KEY_PREFIX}*`,
          's3:GetObject',
          's3:GetObjectVersion',
          'kms:Decrypt',
        );
      })
      .bind('EXPORTS_BUCKET', exportsBucket.bucketName, (g) => {
        iam.Grant.addToPrincipal({
          grantee: g,
          actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
          resourceArns: [exportObjects],
        });
        // Listing the checkpoints of an export: only under the exports prefix.
        iam.Grant.addToPrincipal({
          grantee: g,
          actions: ['s3:ListBucket'],
          resourceArns: [exportsBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': `${EXPORT_KEY_PREFIX}*` } },
        });
        data.archiveKey.grants.actions(g, 'kms:GenerateDataKey', 'kms:Decrypt');
      })
      .bind('EXPORT_QUEUE_URL', exportQueue.queueUrl, (g) => {
        this.exportWorker.function.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(exportQueue.node)}`, {
          eventSourceArn: exportQueue.queueArn,
          batchSize: 1,
          reportBatchItemFailures: true,
        });
        // Receives its jobs, and sends the continuation of an export that reached the deadline.
        exportQueue.grants.actions(
          g,
          [
            'sqs:ReceiveMessage',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:ChangeMessageVisibility',
            'sqs:SendMessage',
          ],
          { keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'] },
        );
      })
      .setEnv('MAX_RECEIVE_COUNT', String(data.exportQueues.maxReceiveCount))
      .setEnv('SOURCE_ORGANIZATION', config.sourceOrganization);
    acknowledgeWildcardResource(
      this.exportWorker.role.node.findChild('DefaultPolicy'),
      exportObjects,
      'Export keys are made from export ids at run time; the grant ' +
        'covers the exports prefix of the exports bucket only.',
    );
    acknowledgeWildcardResource(
      this.exportWorker.role.node.findChild('DefaultPolicy'),
      bucket.arnForObjects(`${ARCHIVE_KEY_PREFIX}*`),
      'Archived object keys are derived from file ids; read-only actions on the archive prefix of this one bucket.',
    );
    acknowledgeWildcardResource(
      this.lookup.role.node.findChild('DefaultPolicy'),
      exportObjects,
      'Export keys are made from export ids at run time; s3:GetObject ' +
        '(for the presigned link) on the exports prefix only.',
    );

    for (const fn of [this.ingest, this.lookup]) {
      acknowledgeWildcardResource(
        fn.role.node.findChild('DefaultPolicy'),
        archiveObjects,
        'Object keys are derived from file ids at run time, so the grant ' +
          'covers the objects of this one bucket; the actions are listed ' +
          'one by one (no s3:* or Delete*), and the bucket holds nothing ' +
          'but archived files.',
      );
    }
    acknowledgeWildcardResource(
      this.ingest.role.node.findChild('DefaultPolicy'),
      bucket.arnForObjects(`${ARCHIVE_KEY_PREFIX}*`),
      'Legal holds apply to archived versions, whose keys are derived ' +
        'from file ids at run time: the grant is s3:PutObjectLegalHold ' +
        'alone, on the archive layout of this one bucket.',
    );

    this.lookupApi = new LookupApi(this, 'LookupApi', {
      handler: this.lookup.function,
      namePrefix,
      rateLimit: config.apiRateLimit,
      burstLimit: config.apiBurstLimit,
      logRetention: props.logRetention,
    });

    // The operator's direct AWS calls (the archiver CLI's status, dlq and reindex commands), next to
    // its lookup routes (the discovery runs) that LookupApi put in the same policy:
    // - status: queue depths (sqs:GetQueueAttributes on both queues), poller leases and budget items
    //   (GetItem) and, with --files, the file counts (a Scan: dynamodb-file-counts.ts);
    // - dlq list / redrive: receive and release dead letters (ReceiveMessage; ChangeMessageVisibilityBatch
    //   is authorized as sqs:ChangeMessageVisibility), read the file's record (GetItem), reset it to
    //   pending (UpdateItem), send the job back (ingest queue SendMessage), delete the dead letter;
    //   both queues are under the pipeline key (receive: kms:Decrypt; send: kms:GenerateDataKey);
    // - reindex: reads file items page by page (Scan), writes their search keys (UpdateItem) and its
    //   checkpoint item (PutItem, GetItem).
    // Never DeleteItem: the access trail and the index are evidence.
    const operator = this.lookupApi.operatorPolicy;
    grantItemAccess(table, operator, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan');
    denyTrailWrites(table, operator);
    queue.grants.actions(operator, ['sqs:GetQueueAttributes', 'sqs:SendMessage'], {
      keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    });
    deadLetterQueue.grants.actions(
      operator,
      ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'],
      { keyActions: ['kms:Decrypt'] },
    );

    this.auditorConsole =
      config.console === 'create'
        ? new AuditorConsole(this, 'Console', {
            namePrefix,
            config,
            apiId: this.lookupApi.api.restApiId,
            apiUrl: this.lookupApi.api.url,
            archiveBucketDomain: bucket.bucketRegionalDomainName,
            auditorPolicies: [this.lookupApi.auditorPolicy],
            legalAdminPolicies: [this.lookupApi.legalAdminPolicy],
          })
        : undefined;
    if (this.auditorConsole) {
      const origin = this.auditorConsole.origin;
      allowBrowserOrigin(this.lookupApi.api, origin);
      this.lookup.setEnv('CONSOLE_ORIGIN', origin);
      new CfnOutput(this, 'ConsoleUrl', { value: `${origin}/`, description: 'The auditor console' });
    }

    this.webhook = new WebhookIngress(this, 'Webhook', {
      entry: HANDLER_ENTRIES.webhook,
      projectRoot: PROJECT_ROOT,
      config,
      namePrefix,
      data,
      logRetention: props.logRetention,
      cloudWatchAccount: this.lookupApi.api.node.tryFindChild('Account'),
    });

    // For discovery jobs and operators: send to the ingest queue, nothing else. The queue's URL is
    // a stack output (IngestQueueUrl), so a producer needs no sqs:GetQueueUrl; sending to a queue
    // encrypted with a customer-managed key needs kms:GenerateDataKey and kms:Decrypt on it.
    const jobProducerPolicy = new iam.ManagedPolicy(this, 'JobProducerPolicy', {
      description: 'Send ingest jobs to the Claude file archiver queue',
    });
    queue.grants.actions(jobProducerPolicy, ['sqs:SendMessage'], {
      keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      namePrefix,
      ingestFunction: this.ingest.function,
      lookupFunction: this.lookup.function,
      exportFunction: this.exportWorker.function,
      exportDeadLetterQueue: data.exportQueues.deadLetterQueue,
      ingestQueue: queue,
      deadLetterQueue,
      webhook: {
        function: this.webhook.function.function,
        stage: this.webhook.api.api.deploymentStage,
        accessLogGroup: this.webhook.api.accessLogGroup,
        waf: this.webhook.api.webAcl?.metricNames,
      },
      oldestMessageAlarmAge: Duration.minutes(config.oldestMessageAlarmMinutes),
      alarmEmail: config.alarmEmail,
    });

    this.discovery = new DiscoveryPollers(this, 'Discovery', {
      projectRoot: PROJECT_ROOT,
      table,
      queue,
      pipelineKey: data.pipelineKey,
      apiKeySecret: data.upstreamApiKey,
      upstreamBaseUrl: config.upstreamBaseUrl,
      scheduleMinutes: pollerScheduleMinutes(config),
      complianceRequestsPerMinute: config.complianceRequestsPerMinute,
      filesApiRequestsPerMinute: config.filesApiRequestsPerMinute,
      pollerBudgetPercent: config.pollerBudgetPercent,
      stalledAfter: Duration.minutes(config.stalledPollerMinutes),
      logLevel: config.logLevel,
      logRetention: props.logRetention,
      alarmTopic: this.monitoring.topic,
      namePrefix,
    });
    for (const row of this.discovery.widgets) this.monitoring.dashboard.addWidgets(...row);
    this.monitoring.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Discovery alarms',
        alarms: Object.values(this.discovery.alarms),
        width: 24,
        height: 4,
      }),
    );

    this.fixity = new FixityAudit(this, 'Fixity', {
      projectRoot: PROJECT_ROOT,
      bucket,
      table,
      rotationDays: config.fixityRotationDays,
      deepSamplePercent: config.fixityDeepSamplePercent,
      logLevel: config.logLevel,
      logRetention: props.logRetention,
      alarmTopic: this.monitoring.topic,
      namePrefix,
    });
    this.monitoring.dashboard.addWidgets(
      this.fixity.widget,
      new cloudwatch.AlarmStatusWidget({ title: 'Fixity alarm', alarms: [this.fixity.alarm], width: 12, height: 6 }),
    );
    acknowledgeWildcardResource(
      this.fixity.function.role.node.findChild('DefaultPolicy'),
      bucket.arnForObjects(`${ARCHIVE_KEY_PREFIX}*`),
      'The audit reads every archived version, whose keys are derived from file ids: ' +
        'read actions only, on the archive layout of this one bucket.',
    );

    new CfnOutput(this, SERVICE_STACK_OUTPUTS.lookupUrl, { value: this.lookupApi.api.url });
    new CfnOutput(this, SERVICE_STACK_OUTPUTS.upstreamBaseUrl, {
      value: config.upstreamBaseUrl,
      description: 'Where the functions call the Compliance and Files APIs; the archiver CLI sends the key only here',
    });
    new CfnOutput(this, 'AuditorPolicyArn', {
      value: this.lookupApi.auditorPolicy.managedPolicyArn,
      exportName: `${namePrefix}-auditor-policy-arn`,
      description: "Attach to an auditor's role or permission set: search, read, download, verify, the access trail",
    });
    new CfnOutput(this, 'LegalAdminPolicyArn', {
      value: this.lookupApi.legalAdminPolicy.managedPolicyArn,
      exportName: `${namePrefix}-legal-admin-policy-arn`,
      description: "Attach to a legal admin's role or permission set: the auditor's routes plus holds and exports",
    });
    new CfnOutput(this, 'OperatorPolicyArn', {
      value: this.lookupApi.operatorPolicy.managedPolicyArn,
      exportName: `${namePrefix}-operator-policy-arn`,
      description:
        "Attach to an operator's role or permission set: status, dead letters, redrive, reindex, discovery runs",
    });
    new CfnOutput(this, 'JobProducerPolicyArn', {
      value: jobProducerPolicy.managedPolicyArn,
      exportName: `${namePrefix}-job-producer-policy-arn`,
    });
    new CfnOutput(this, 'IngestFunctionName', { value: this.ingest.function.functionName });
    new CfnOutput(this, 'IngestLogGroupName', { value: this.ingest.logGroup.logGroupName });
    new CfnOutput(this, 'LookupLogGroupName', { value: this.lookup.logGroup.logGroupName });
    new CfnOutput(this, 'ApiAccessLogGroupName', { value: this.lookupApi.accessLogGroup.logGroupName });
    new CfnOutput(this, 'WebhookUrl', {
      value: this.webhook.api.eventsUrl,
      description: 'POST /events: where signed webhook deliveries go',
    });
    new CfnOutput(this, 'WebhookLogGroupName', { value: this.webhook.function.logGroup.logGroupName });
    new CfnOutput(this, 'WebhookAccessLogGroupName', { value: this.webhook.api.accessLogGroup.logGroupName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
  }
}
