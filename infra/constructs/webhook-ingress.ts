import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IDependable } from 'constructs';
import { DISCOVERY_KEYS } from '../../shared/contracts/table-keys.js';
import type { WebhookConfig, WorkerBudgetConfig } from '../../shared/contracts/lambda-environment.js';
import { SERVICE_NAMES } from '../../shared/contracts/metric-names.js';
import type { DeploymentConfig } from '../deployment-config.js';
import type { DataStack } from '../data-stack.js';
import { WEBHOOK_MEMORY_MB, WEBHOOK_TIMEOUT } from '../sizing.js';
import { ArchiverFunction } from './archiver-function.js';
import { grantItemAccess } from './index-table.js';
import { WebhookApi } from './webhook-rest-api.js';

/** Variables the infrastructure may set: the schema's keys minus the local-only ones. */
export type WebhookEnv = Exclude<
  keyof (WebhookConfig & WorkerBudgetConfig) & string,
  `LOCAL_${string}` | 'ANTHROPIC_API_KEY' | 'WEBHOOK_SECRETS'
>;

/** The partition keys of the shared request budget's items in the index table (`BUDGET#…`). */
export const BUDGET_LEADING_KEYS = `${DISCOVERY_KEYS.budgetState('').pk}*`;

/** A chat fan-out waits at most this long for upstream budget; then the caller is told to retry. */
const BUDGET_MAX_WAIT_MS = 5_000;

export interface WebhookIngressProps {
  readonly entry: string;
  readonly projectRoot: string;
  readonly config: DeploymentConfig;
  readonly namePrefix: string;
  readonly data: DataStack;
  readonly logRetention: logs.RetentionDays;
  /** The account's API Gateway CloudWatch role setting (made by the lookup API). */
  readonly cloudWatchAccount?: IDependable | undefined;
}

/**
 * `POST /events`: the webhook function and its own API. The function may send to the ingest queue,
 * read the webhook secret and the upstream key (chat fan-out lists messages), put and get replay
 * ids, and draw from the shared upstream budget (the `BUDGET#` items of the index table, and no
 * other item); nothing else. Each grant comes with the environment variable that names its resource.
 */
export class WebhookIngress extends Construct {
  readonly function: ArchiverFunction<WebhookEnv>;
  readonly api: WebhookApi;

  constructor(scope: Construct, id: string, props: WebhookIngressProps) {
    super(scope, id);
    const { config, data } = props;
    const readSecret = (g: iam.IGrantable, secretArn: string) => {
      // Not secret.grantRead(): with a customer-managed key it writes this role into the data stack's
      // key policy (a dependency cycle) and adds DescribeSecret, which the secret read (GetSecretValue
      // alone: shared/platform/secrets-manager-reader.ts) does not call.
      iam.Grant.addToPrincipal({ grantee: g, actions: ['secretsmanager:GetSecretValue'], resourceArns: [secretArn] });
      data.pipelineKey.grants.actions(g, 'kms:Decrypt');
    };

    this.function = new ArchiverFunction<WebhookEnv>(this, 'Function', {
      entry: props.entry,
      projectRoot: props.projectRoot,
      description:
        'Webhook ingress: verifies Standard Webhooks signatures and enqueues ingest jobs for files and chats',
      serviceName: SERVICE_NAMES.webhook,
      memorySize: WEBHOOK_MEMORY_MB,
      timeout: WEBHOOK_TIMEOUT,
      logLevel: config.logLevel,
      logRetention: props.logRetention,
    });
    const table = data.webhook.replayTable;
    this.function
      .bind('INGEST_QUEUE_URL', data.queues.queue.queueUrl, (g) =>
        // SendMessageBatch is authorized by sqs:SendMessage.
        data.queues.queue.grants.actions(g, ['sqs:SendMessage'], {
          keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        }),
      )
      .bind('WEBHOOK_REPLAY_TABLE', table.tableName, (g) => {
        // Claims, outcomes and releases are all conditional puts; a failed claim is read back.
        grantItemAccess(table, g, 'dynamodb:PutItem', 'dynamodb:GetItem');
      })
      .bind('WEBHOOK_SECRET_ARN', data.webhook.secret.secretArn, (g) => readSecret(g, data.webhook.secret.secretArn))
      .bind('ANTHROPIC_API_KEY_SECRET_ARN', data.upstreamApiKey.secretArn, (g) =>
        readSecret(g, data.upstreamApiKey.secretArn),
      )
      .bind('INDEX_TABLE', data.index.table.tableName, (g) => {
        // The budget's state items only: the leading-keys condition keeps every file record out of reach.
        g.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            resources: [data.index.table.tableArn],
            conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [BUDGET_LEADING_KEYS] } },
          }),
        );
        // A chat it could not read to its end is left for the chat poller: put only, its one partition.
        g.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['dynamodb:PutItem'],
            resources: [data.index.table.tableArn],
            conditions: {
              'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [DISCOVERY_KEYS.chatRequestPartition] },
            },
          }),
        );
        // The table key, which DynamoDB decrypts for the caller: kms:Decrypt only (see grantItemAccess).
        data.archiveKey.grants.actions(g, 'kms:Decrypt');
      })
      .setEnv('ANTHROPIC_BASE_URL', config.upstreamBaseUrl)
      .setEnv('REPLAY_RETENTION_HOURS', String(config.webhookReplayRetentionHours))
      .setEnv('COMPLIANCE_REQUESTS_PER_MINUTE', String(config.complianceRequestsPerMinute))
      .setEnv('FILES_API_REQUESTS_PER_MINUTE', String(config.filesApiRequestsPerMinute))
      .setEnv('POLLER_BUDGET_SHARE', String(config.pollerBudgetPercent / 100))
      .setEnv('BUDGET_MAX_WAIT_MS', String(BUDGET_MAX_WAIT_MS));

    this.api = new WebhookApi(this, 'Api', {
      handler: this.function.function,
      namePrefix: props.namePrefix,
      rateLimit: config.webhookRateLimit,
      burstLimit: config.webhookBurstLimit,
      logRetention: props.logRetention,
      webAcl: config.webhookWebAclArn
        ? { kind: 'existing', arn: config.webhookWebAclArn }
        : config.webhookWebAcl === 'create'
          ? { kind: 'create', ipRateLimit: config.webhookIpRateLimit }
          : { kind: 'none' },
      cloudWatchAccount: props.cloudWatchAccount,
    });
  }
}
