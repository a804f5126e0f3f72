import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import * as path from 'node:path';
import type { FixityConfig } from '../../shared/contracts/lambda-environment.js';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAMES } from '../../shared/contracts/metric-names.js';
import { ARCHIVE_KEY_PREFIX } from '../../shared/contracts/object-keys.js';
import { FIXITY_AUDIT_PARTITION, KEY_PREFIXES } from '../../shared/contracts/table-keys.js';
import { ArchiverFunction } from './archiver-function.js';
import { grantItemAccess } from './index-table.js';

type FixityEnv = Exclude<keyof FixityConfig & string, `LOCAL_${string}`>;

/** A run may take this long (Lambda's longest); the pass resumes from its checkpoint at the next run. */
export const FIXITY_TIMEOUT = Duration.minutes(15);
/** Runs per day: the first finishes the day's pass or leaves a checkpoint the next ones resume. */
export const FIXITY_SCHEDULE = Duration.hours(1);

export interface FixityAuditProps {
  readonly projectRoot: string;
  readonly bucket: s3.IBucket;
  readonly table: dynamodb.Table;
  readonly rotationDays: number;
  readonly deepSamplePercent: number;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly logRetention: logs.RetentionDays;
  readonly alarmTopic: sns.ITopic;
  readonly namePrefix: string;
}

/**
 * The scheduled fixity audit (shared/fixity/scheduled-audit.ts): a function run hourly by an
 * EventBridge rule, its least-privilege role, and the FixityFailures alarm.
 */
export class FixityAudit extends Construct {
  readonly function: ArchiverFunction<FixityEnv>;
  readonly alarm: cloudwatch.Alarm;
  readonly widget: cloudwatch.IWidget;

  constructor(scope: Construct, id: string, props: FixityAuditProps) {
    super(scope, id);
    const fn = new ArchiverFunction<FixityEnv>(this, 'Function', {
      entry: path.join(props.projectRoot, 'lambdas/fixity/handler.ts'),
      projectRoot: props.projectRoot,
      description:
        'Scheduled fixity audit: cheap checks on a rotation over every archived copy, deep checks on a sample',
      serviceName: SERVICE_NAMES.fixity,
      memorySize: 512,
      timeout: FIXITY_TIMEOUT,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
    });
    this.function = fn;
    fn.bind('INDEX_TABLE', props.table.tableName, (g) => {
      // The pass reads the table page by page. Scan cannot be narrowed by dynamodb:LeadingKeys (a Scan
      // names no partition key), so it is granted on the table alone, not its indexes: read-only.
      grantItemAccess(props.table, g, 'dynamodb:Scan');
      // As the lookup's verify: read the file item, record the event on it (UpdateItem on FILE#) and
      // rewrite its chat listings (PutItem on CHAT#). dynamodb:LeadingKeys is the partition key of
      // every item a call touches
      // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
      for (const [acts, prefix] of [
        [['dynamodb:GetItem', 'dynamodb:UpdateItem'], `${KEY_PREFIXES.file}*`],
        [['dynamodb:PutItem'], `${KEY_PREFIXES.chat}*`],
      ] as const)
        g.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: [...acts],
            resources: [props.table.tableArn],
            conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [prefix] } },
          }),
        );
      // Its checkpoint, one item in its own partition (exact value).
      g.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
          resources: [props.table.tableArn],
          conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [FIXITY_AUDIT_PARTITION] } },
        }),
      );
    })
      .bind('ARCHIVE_BUCKET', props.bucket.bucketName, (g) =>
        // HeadObject and GetObject of an exact version need s3:GetObjectVersion (s3:GetObject for a record
        // without a version id); the deep tier's read decrypts with the bucket's key. Archived copies only.
        s3.BucketGrants.fromBucket(props.bucket).actionsOnObjectKeys(
          g,
          `${ARCHIVE_KEY_PREFIX}*`,
          's3:GetObject',
          's3:GetObjectVersion',
          'kms:Decrypt',
        ),
      )
      .setEnv('FIXITY_ROTATION_DAYS', String(props.rotationDays))
      .setEnv('FIXITY_DEEP_SAMPLE_PERCENT', String(props.deepSamplePercent));

    new events.Rule(this, 'Schedule', {
      description: 'Runs the scheduled fixity audit',
      schedule: events.Schedule.rate(FIXITY_SCHEDULE),
      // No retry: the next scheduled run resumes from the checkpoint anyway.
      targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 0, maxEventAge: Duration.minutes(5) })],
    });
    // Lambda retries a failed asynchronous invocation twice by default, whatever the rule says
    // (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html); a retry
    // would overlap the next run over the same checkpoint.
    fn.function.configureAsyncInvoke({ retryAttempts: 0 });

    const failures = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: METRIC.fixityFailures,
      dimensionsMap: { service: SERVICE_NAMES.fixity },
      statistic: 'Sum',
      period: Duration.hours(1),
    });
    const alarmId = 'FixityFailures';
    this.alarm = new cloudwatch.Alarm(this, alarmId, {
      alarmName: `${props.namePrefix}-${alarmId}`,
      alarmDescription:
        'A scheduled fixity check found an archived copy missing or changed. ' +
        `See docs/deployment.md#${alarmId.toLowerCase()}.`,
      metric: failures,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
    this.alarm.addOkAction(new actions.SnsAction(props.alarmTopic));
    this.widget = new cloudwatch.GraphWidget({
      title: 'Fixity: failed scheduled checks',
      left: [failures],
      width: 12,
      height: 6,
    });
  }
}
