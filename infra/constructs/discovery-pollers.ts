import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import * as path from 'node:path';
import {
  DISCOVERY_SOURCES,
  type DiscoverySource,
  ownPartitions,
  POLLER_SOURCES,
  type PollerSource,
  repeatWindowMs,
} from '../../shared/contracts/discovery-sources.js';
import type { DiscoveryConfig } from '../../shared/contracts/lambda-environment.js';
import {
  DISCOVERY_METRIC,
  DISCOVERY_SERVICE_NAMES,
  METRICS_NAMESPACE,
  SERVICE_NAMES,
} from '../../shared/contracts/metric-names.js';
import { ArchiverFunction } from './archiver-function.js';
import { grantLeadingKeys } from './index-table.js';

type DiscoveryEnv = Exclude<keyof DiscoveryConfig & string, `LOCAL_${string}` | 'ANTHROPIC_API_KEY'>;

/** The partition keys of the file items in the index table (`FILE#…`): all the Files API poller batch-reads. */
export const FILE_ITEM_LEADING_KEYS = `${DISCOVERY_SOURCES.files_api.tableKeyPrefixes.batchGet[0]}*`;

/** A poller run may take this long; the lease outlives it by a minute so runs never overlap. */
export const POLLER_TIMEOUT = Duration.minutes(5);
export const POLLER_MEMORY_MB = 512;

export interface DiscoveryPollersProps {
  /** The registry's `lambdaEntry` paths are relative to it. */
  readonly projectRoot: string;
  readonly table: dynamodb.Table;
  readonly queue: sqs.Queue;
  readonly pipelineKey: kms.Key;
  readonly apiKeySecret: secretsmanager.Secret;
  readonly upstreamBaseUrl: string;
  /** Minutes between runs, per poller. */
  readonly scheduleMinutes: Record<PollerSource, number>;
  readonly complianceRequestsPerMinute: number;
  readonly filesApiRequestsPerMinute: number;
  readonly pollerBudgetPercent: number;
  /** Alarm when a poller has completed no run for this long. */
  readonly stalledAfter: Duration;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly logRetention: logs.RetentionDays;
  readonly alarmTopic: sns.ITopic;
  readonly namePrefix: string;
}

/**
 * The discovery pollers of the poller registry (shared/contracts/discovery-sources.ts): a function
 * each (the project's defaults), a schedule each (an EventBridge rule; a run that overlaps the next
 * one finds the lease held and ends at once), the registry's repeat polling as environment, grants
 * bound to their environment and scoped to the registry's key prefixes, and the alarms an operator
 * acts on: a poller that has completed no run for a while, a cursor upstream rejected, and callers
 * finding no request budget over time.
 */
export class DiscoveryPollers extends Construct {
  readonly functions = {} as Record<PollerSource, ArchiverFunction<DiscoveryEnv>>;
  readonly alarms: Record<string, cloudwatch.Alarm> = {};
  readonly widgets: cloudwatch.IWidget[][] = [];

  constructor(scope: Construct, id: string, props: DiscoveryPollersProps) {
    super(scope, id);
    for (const source of POLLER_SOURCES) {
      const spec: DiscoverySource = DISCOVERY_SOURCES[source];
      const id = spec.constructId;
      const scheduleMinutes = props.scheduleMinutes[source];
      const fn = new ArchiverFunction<DiscoveryEnv>(this, id, {
        entry: path.join(props.projectRoot, spec.lambdaEntry),
        projectRoot: props.projectRoot,
        description: spec.description,
        serviceName: DISCOVERY_SERVICE_NAMES[source],
        memorySize: POLLER_MEMORY_MB,
        timeout: POLLER_TIMEOUT,
        logLevel: props.logLevel,
        logRetention: props.logRetention,
      });
      fn.bind('INDEX_TABLE', props.table.tableName, (g) => {
        // Budget items (and what the source's use case keeps) are single-item reads and conditional
        // writes; deletions are UpdateItem. Only the partitions the registry names: dynamodb:LeadingKeys
        // is the partition key of every item a call touches
        // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
        grantLeadingKeys(
          props.table,
          g,
          ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          spec.tableKeyPrefixes.items,
        );
        // Its own partitions by exact value (StringEquals: a prefix grant would reach another source
        // whose name starts with this one's). Two statements, because one statement's actions all
        // share its condition: the lease and checkpoint are read and written conditionally, while the
        // ledger is evidence written once (PutItem with attribute_not_exists), so no UpdateItem or
        // DeleteItem can rewrite or drop a run record ("Policy evaluation logic", IAM User Guide: an
        // action is allowed only by a statement naming it whose conditions all hold).
        const own = ownPartitions(source);
        for (const [actions, partition] of [
          [['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], own.state],
          [['dynamodb:PutItem'], own.ledger],
        ] as const)
          g.grantPrincipal.addToPrincipalPolicy(
            new iam.PolicyStatement({
              actions: [...actions],
              resources: [props.table.tableArn],
              conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [partition] } },
            }),
          );
        // The Files API poller's "already final?" per listing page: BatchGetItem of file items only.
        if (spec.tableKeyPrefixes.batchGet.length > 0)
          grantLeadingKeys(props.table, g, ['dynamodb:BatchGetItem'], spec.tableKeyPrefixes.batchGet);
        // Work lists (the chat poller's retry list and webhook chat requests): read whole, entries
        // taken off. Exact partitions (a prefix grant would reach `RETRY#chatsX`).
        for (const list of spec.tableKeyPrefixes.lists)
          g.grantPrincipal.addToPrincipalPolicy(
            new iam.PolicyStatement({
              actions: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
              resources: [props.table.tableArn],
              conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [list] } },
            }),
          );
      })
        .bind('INGEST_QUEUE_URL', props.queue.queueUrl, (g) =>
          props.queue.grants.actions(g, ['sqs:SendMessage'], { keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'] }),
        )
        .bind('ANTHROPIC_API_KEY_SECRET_ARN', props.apiKeySecret.secretArn, (g) => {
          // As for the ingest function: no grantRead (it would write this role into the data stack's key policy).
          iam.Grant.addToPrincipal({
            grantee: g,
            actions: ['secretsmanager:GetSecretValue'],
            resourceArns: [props.apiKeySecret.secretArn],
          });
          props.pipelineKey.grants.actions(g, 'kms:Decrypt');
        })
        .setEnv('ANTHROPIC_BASE_URL', props.upstreamBaseUrl)
        .setEnv('COMPLIANCE_REQUESTS_PER_MINUTE', String(props.complianceRequestsPerMinute))
        .setEnv('FILES_API_REQUESTS_PER_MINUTE', String(props.filesApiRequestsPerMinute))
        .setEnv('POLLER_BUDGET_SHARE', String(props.pollerBudgetPercent / 100))
        .setEnv('POLLER_LEASE_SECONDS', String(POLLER_TIMEOUT.toSeconds() + 60))
        .setEnv('POLL_EVERY_SECONDS', String(spec.pollEverySeconds ?? 0))
        .setEnv('POLL_WINDOW_SECONDS', String(repeatWindowMs(scheduleMinutes, spec.pollEverySeconds) / 1000));
      new events.Rule(this, `${id}Schedule`, {
        description: `Runs the ${source} poller`,
        schedule: events.Schedule.rate(Duration.minutes(scheduleMinutes)),
        // No retry: the next scheduled run continues from the checkpoint anyway.
        targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 0, maxEventAge: Duration.minutes(5) })],
      });
      // EventBridge invokes the function asynchronously, and Lambda retries a failed asynchronous
      // invocation twice by default, on its own, whatever the rule's retry policy says
      // (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). A
      // retried run would find its own lease still held and end at once, or overlap the next
      // scheduled run: no retries.
      fn.function.configureAsyncInvoke({ retryAttempts: 0 });
      this.functions[source] = fn;

      const metric = (name: string, statistic = 'Sum', period = Duration.minutes(5)) =>
        new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: name,
          dimensionsMap: { service: DISCOVERY_SERVICE_NAMES[source] },
          statistic,
          period,
        });
      this.addAlarm(props, `${id}Stalled`, {
        description:
          `The ${source} poller has completed no run for ${props.stalledAfter.toMinutes()} ` +
          `minutes (no data counts as stalled).`,
        metric: metric(DISCOVERY_METRIC.runsCompleted, 'Sum', props.stalledAfter),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      this.addAlarm(props, `${id}CursorRejected`, {
        description:
          `Upstream rejected the ${source} poller's stored cursor (400); ` +
          `the poller stays on it and reports every run until an operator ` +
          `acts.`,
        metric: metric(DISCOVERY_METRIC.cursorRejected),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.widgets.push([
        new cloudwatch.GraphWidget({
          title: `Discovery: ${source} (pages, records, jobs enqueued)`,
          left: [
            metric(DISCOVERY_METRIC.pages),
            metric(DISCOVERY_METRIC.records),
            metric(DISCOVERY_METRIC.jobsEnqueued),
          ],
          right: [metric(DISCOVERY_METRIC.lagSeconds, 'Maximum')],
          width: 12,
          height: 6,
        }),
      ]);
    }

    // Callers that found no request budget within their wait, over 15 minutes: the budget is too
    // small for the load (or upstream keeps answering 429 and the budget stays shrunk). Every caller
    // of the shared Compliance API budget counts: ingest, the pollers and the webhook's chat fan-out.
    const exhausted = [SERVICE_NAMES.ingest, SERVICE_NAMES.webhook, ...Object.values(DISCOVERY_SERVICE_NAMES)].map(
      (service, i) =>
        [
          `e${i}`,
          new cloudwatch.Metric({
            namespace: METRICS_NAMESPACE,
            metricName: DISCOVERY_METRIC.budgetExhausted,
            dimensionsMap: { service, api: 'compliance' },
            statistic: 'Sum',
            period: Duration.minutes(5),
          }),
        ] as const,
    );
    const budgetExhausted = new cloudwatch.MathExpression({
      expression: exhausted.map(([k]) => k).join(' + '),
      usingMetrics: Object.fromEntries(exhausted),
      label: 'Callers without budget (Compliance API)',
      period: Duration.minutes(5),
    });
    this.addAlarm(props, 'BudgetExhausted', {
      description: 'For 15 minutes, callers kept finding no Compliance API request budget within their wait.',
      metric: budgetExhausted,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluationPeriods: 3,
    });
    this.widgets.push([
      new cloudwatch.GraphWidget({
        title: 'Request budget: callers that found none',
        left: [budgetExhausted],
        width: 12,
        height: 6,
      }),
    ]);
  }

  private addAlarm(
    props: DiscoveryPollersProps,
    id: string,
    spec: {
      description: string;
      metric: cloudwatch.IMetric;
      threshold: number;
      comparisonOperator: cloudwatch.ComparisonOperator;
      treatMissingData: cloudwatch.TreatMissingData;
      evaluationPeriods?: number;
    },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${props.namePrefix}-${id}`,
      alarmDescription: `${spec.description} See docs/deployment.md#${id.toLowerCase()}.`,
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparisonOperator,
      evaluationPeriods: spec.evaluationPeriods ?? 1,
      treatMissingData: spec.treatMissingData,
    });
    alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
    alarm.addOkAction(new actions.SnsAction(props.alarmTopic));
    this.alarms[id] = alarm;
  }
}
