// Over 400 lines: every alarm and dashboard widget of the app, one per metric, each with its runbook
// link; a split by box (ingest, discovery, workbench) is the next step (issue 17 note).
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_NAMES,
  WEBHOOK_OUTCOMES,
  type WebhookOutcome,
} from '../../shared/contracts/metric-names.js';

/**
 * Refused signatures (401 answers of the webhook stage) in 5 minutes above which someone is
 * alerted: a sender whose secret is stale after a rotation, or someone probing the public endpoint.
 * A handful is normal (a clock drifting past the 5-minute tolerance, a retried delivery); a sender
 * with a wrong secret refuses every delivery, and Standard Webhooks senders retry each one.
 */
export const WEBHOOK_REFUSED_SIGNATURES_THRESHOLD = 10;

/**
 * The capture-latency goal: 95% of files archived within this many seconds of their appearance
 * upstream (the CaptureLatencyHigh alarm's threshold, on the metric's p95 over 15 minutes).
 */
export const CAPTURE_LATENCY_P95_SECONDS = 60;

export interface MonitoringProps {
  readonly namePrefix: string;
  readonly ingestFunction: lambda.IFunction;
  readonly lookupFunction: lambda.IFunction;
  /** The eDiscovery export worker and its queue's dead letters (docs/exports.md). */
  readonly exportFunction: lambda.IFunction;
  readonly exportDeadLetterQueue: sqs.IQueue;
  readonly ingestQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly webhook: {
    readonly function: lambda.IFunction;
    readonly stage: apigw.Stage;
    /** The stage's access log: every answer's status, whoever gave it (the function or API Gateway). */
    readonly accessLogGroup: logs.ILogGroup;
    /** The `MetricName` of the stage's web ACL and its rules, when the stack created the ACL. */
    readonly waf?: { readonly acl: string; readonly rateLimit: string; readonly bodyTooLarge: string } | undefined;
  };
  readonly oldestMessageAlarmAge: Duration;
  readonly alarmEmail?: string | undefined;
}

/**
 * The alarms an operator acts on (each one's meaning and runbook is in docs/deployment.md under the
 * same name) and a dashboard of the archive's throughput and the upstream's behaviour.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: Record<string, cloudwatch.Alarm> = {};
  readonly dashboard: cloudwatch.Dashboard;
  private readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.namePrefix = props.namePrefix;

    // CloudWatch publishes alarm notifications as the CloudWatch service (cloudwatch.amazonaws.com),
    // not as an IAM identity of this account, so both the topic policy and the key policy must name
    // it. Each grant is limited to this stack's alarms, by the confused-deputy condition keys a
    // service sets when it acts for a resource: aws:SourceAccount (this account) and aws:SourceArn
    // (an alarm whose name starts with this deployment's prefix; every alarm of the app is named so).
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourcearn
    // https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger (the statement
    // CloudWatch needs on a topic, restricted with aws:SourceArn)
    const stack = Stack.of(this);
    const fromThisStacksAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${props.namePrefix}-*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');

    // CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key (its key policy
    // cannot be changed to admit the service), so the topic gets its own key whose policy lets the
    // CloudWatch service use it: kms:Decrypt and kms:GenerateDataKey*, as SNS documents for AWS
    // services publishing to an encrypted topic
    // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
    // It protects only alarm messages in flight, which is why it lives here with the topic and not
    // with the data.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Claude file archiver: alarm notifications',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisStacksAlarmsToUseTheKey',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromThisStacksAlarms,
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${props.namePrefix} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one (which lets the owning account's identities publish);
    // with only the TLS deny in it, no alarm action could ever publish.
    // https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromThisStacksAlarms,
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const ingestMetric = (metricName: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        // Powertools Metrics emits exactly one dimension, the function's service name.
        dimensionsMap: { service: SERVICE_NAMES.ingest },
        statistic,
        period: Duration.minutes(5),
      });

    const fiveMinutes = { period: Duration.minutes(5) };
    this.addAlarm('DeadLetterQueueNotEmpty', {
      description: 'Ingest jobs failed maxReceiveCount times and are parked in the dead-letter queue.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...fiveMinutes, statistic: 'Maximum' }),
      threshold: 0,
    });
    this.addAlarm('IngestBacklogStale', {
      description: `The oldest ingest job has waited more than ${props.oldestMessageAlarmAge.toMinutes()} minutes.`,
      metric: props.ingestQueue.metricApproximateAgeOfOldestMessage({ ...fiveMinutes, statistic: 'Maximum' }),
      threshold: props.oldestMessageAlarmAge.toSeconds(),
    });
    this.addAlarm('IngestFunctionErrors', {
      description:
        'The ingest function crashed or timed out (failures of single jobs are reported per record, not here).',
      metric: props.ingestFunction.metricErrors({ ...fiveMinutes, statistic: 'Sum' }),
      threshold: 0,
    });
    this.addAlarm('IngestFunctionThrottles', {
      description: 'Lambda throttled the ingest function (account concurrency exhausted).',
      metric: props.ingestFunction.metricThrottles({ ...fiveMinutes, statistic: 'Sum' }),
      threshold: 0,
    });
    this.addAlarm('LookupFunctionErrors', {
      description: 'The lookup function failed; auditors received 5xx answers.',
      metric: props.lookupFunction.metricErrors({ ...fiveMinutes, statistic: 'Sum' }),
      threshold: 0,
    });
    this.addAlarm('LookupFunctionThrottles', {
      description: 'Lambda throttled the lookup function.',
      metric: props.lookupFunction.metricThrottles({ ...fiveMinutes, statistic: 'Sum' }),
      threshold: 0,
    });
    this.addAlarm('ExportFunctionErrors', {
      description:
        'The export worker crashed or timed out; the export resumes from its last checkpoint on the next delivery.',
      metric: props.exportFunction.metricErrors({ ...fiveMinutes, statistic: 'Sum' }),
      threshold: 0,
    });
    this.addAlarm('ExportDeadLetterQueueNotEmpty', {
      description:
        'An export message was delivered maxReceiveCount times and is parked in the export dead-letter queue.',
      metric: props.exportDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        ...fiveMinutes,
        statistic: 'Maximum',
      }),
      threshold: 0,
    });
    this.addAlarm('IntegrityFailures', {
      description:
        'A download did not match its published size or MD5; the upload was aborted and nothing was archived.',
      metric: ingestMetric(METRIC.integrityFailures),
      threshold: 0,
    });
    this.addAlarm('UpstreamAuthFailures', {
      description: 'The upstream answered 401/403: the API key in Secrets Manager is wrong, revoked or lacks a scope.',
      metric: ingestMetric(METRIC.upstreamAuthFailures),
      threshold: 0,
    });

    // p95 over 15 minutes: a few slow files (a large one, a retried one) do not page anyone; a poller
    // that falls behind or stops does. EMF values keep their distribution, so percentiles apply
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles).
    const captureLatency = (statistic: string) =>
      ingestMetric(METRIC.captureLatency, statistic).with({ period: Duration.minutes(15) });
    this.addAlarm('CaptureLatencyHigh', {
      description:
        `For 15 minutes, the 95th percentile of the time from a file's ` +
        `appearance upstream to its archived copy was above ${CAPTURE_LATENCY_P95_SECONDS} ` +
        `s: a file deleted upstream before capture is lost.`,
      metric: captureLatency('p95'),
      threshold: CAPTURE_LATENCY_P95_SECONDS * 1000,
    });

    const webhookMetric = (outcome: WebhookOutcome) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.webhookRequests,
        // A single metric: the service dimension plus the outcome the function answered.
        dimensionsMap: { service: SERVICE_NAMES.webhook, outcome },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    const webhookStage = props.webhook.stage;
    this.addAlarm('WebhookFunctionErrors', {
      description: 'The webhook function crashed or timed out; senders received 5xx answers and will retry.',
      metric: props.webhook.function.metricErrors({ ...fiveMinutes, statistic: 'Sum' }),
      threshold: 0,
    });
    this.addAlarm('WebhookApi5xx', {
      description:
        'The webhook stage answered 5xx (a dependency unavailable, the function failing, throttled or unreachable).',
      metric: webhookStage.metricServerError({ ...fiveMinutes, statistic: 'Sum' }),
      threshold: 0,
    });
    // Every 401 the stage answered, counted from its access log: the function's (a bad or expired
    // signature) and API Gateway's own (the webhook headers missing, refused before the function
    // runs, so the function's WebhookRequests metric never sees them).
    const unauthorizedAnswers = new logs.MetricFilter(this, 'WebhookUnauthorizedAnswers', {
      logGroup: props.webhook.accessLogGroup,
      filterPattern: logs.FilterPattern.stringValue('$.status', '=', '401'),
      metricNamespace: METRICS_NAMESPACE,
      metricName: METRIC.webhookUnauthorizedAnswers,
      metricValue: '1',
      // No 401 in a period is a zero, not missing data.
      defaultValue: 0,
    });
    this.addAlarm('WebhookSignatureRefusals', {
      description:
        `More than ${WEBHOOK_REFUSED_SIGNATURES_THRESHOLD} webhook requests ` +
        `in 5 minutes were answered 401: a bad, missing or expired signature, ` +
        `or no webhook headers at all.`,
      metric: unauthorizedAnswers.metric({ statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: WEBHOOK_REFUSED_SIGNATURES_THRESHOLD,
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.namePrefix,
      defaultInterval: Duration.days(1),
    });
    const wide = { width: 12, height: 6 };
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Files archived',
        left: [ingestMetric(METRIC.filesArchived)],
        right: [ingestMetric(METRIC.duplicateDeliveries)],
        ...wide,
      }),
      new cloudwatch.GraphWidget({
        title: 'Bytes archived',
        left: [ingestMetric(METRIC.bytesArchived)],
        ...wide,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Integrity and upstream authentication failures',
        left: [ingestMetric(METRIC.integrityFailures), ingestMetric(METRIC.upstreamAuthFailures)],
        ...wide,
      }),
      new cloudwatch.GraphWidget({
        title: 'Upstream latency (ms to response headers)',
        left: [
          ingestMetric(METRIC.upstreamLatency, 'p50'),
          ingestMetric(METRIC.upstreamLatency, 'p90'),
          ingestMetric(METRIC.upstreamLatency, 'p99'),
        ],
        ...wide,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Capture latency (ms from appearance upstream to archived copy)',
        left: [
          captureLatency('p50').with({ label: 'p50' }),
          captureLatency('p95').with({ label: 'p95' }),
          captureLatency('p99').with({ label: 'p99' }),
        ],
        leftAnnotations: [{ value: CAPTURE_LATENCY_P95_SECONDS * 1000, label: 'p95 goal' }],
        width: 24,
        height: 6,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Upstream 429 (rate limited)',
        left: [ingestMetric(METRIC.upstreamThrottled)],
        ...wide,
      }),
      new cloudwatch.GraphWidget({
        title: 'Ingest queue',
        left: [
          props.ingestQueue.metricApproximateNumberOfMessagesVisible(fiveMinutes),
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible(fiveMinutes),
        ],
        right: [props.ingestQueue.metricApproximateAgeOfOldestMessage(fiveMinutes)],
        ...wide,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Ingest function',
        left: [
          props.ingestFunction.metricInvocations(fiveMinutes),
          props.ingestFunction.metricErrors(fiveMinutes),
          props.ingestFunction.metricThrottles(fiveMinutes),
        ],
        right: [props.ingestFunction.metricDuration({ ...fiveMinutes, statistic: 'p99' })],
        ...wide,
      }),
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: Object.values(this.alarms),
        ...wide,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Webhook requests by outcome',
        left: WEBHOOK_OUTCOMES.map((outcome) => webhookMetric(outcome).with({ label: outcome })),
        right: [
          new cloudwatch.Metric({
            namespace: METRICS_NAMESPACE,
            metricName: METRIC.webhookJobsEnqueued,
            dimensionsMap: { service: SERVICE_NAMES.webhook },
            statistic: 'Sum',
            period: Duration.minutes(5),
          }),
        ],
        stacked: true,
        ...wide,
      }),
      new cloudwatch.GraphWidget({
        title: 'Webhook API and function',
        left: [
          webhookStage.metricCount(fiveMinutes),
          webhookStage.metricClientError(fiveMinutes),
          webhookStage.metricServerError(fiveMinutes),
          props.webhook.function.metricErrors(fiveMinutes),
        ],
        right: [webhookStage.metricLatency({ ...fiveMinutes, statistic: 'p99' })],
        ...wide,
      }),
    );
    if (props.webhook.waf) {
      const waf = props.webhook.waf;
      const blocked = (rule: string, label: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/WAFV2',
          metricName: 'BlockedRequests',
          // A regional web ACL's metrics carry its name, its region and the rule's metric name.
          dimensionsMap: { WebACL: waf.acl, Region: Stack.of(this).region, Rule: rule },
          statistic: 'Sum',
          period: Duration.minutes(5),
          label,
        });
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Webhook WAF: refused by rule',
          left: [blocked(waf.rateLimit, '429 rate per IP'), blocked(waf.bodyTooLarge, '413 body too large')],
          width: 24,
          height: 6,
        }),
      );
    }
  }

  private addAlarm(id: string, spec: { description: string; metric: cloudwatch.IMetric; threshold: number }): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${this.namePrefix}-${id}`,
      alarmDescription: `${spec.description} See docs/deployment.md#${id.toLowerCase()}.`,
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data means nothing happened (no failures emitted, no invocations), not an outage.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms[id] = alarm;
  }
}
