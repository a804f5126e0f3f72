import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface LoggedStageProps {
  readonly stageName: string;
  /** Stage-wide throttling (requests per second, burst): over it, API Gateway answers 429. */
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly logRetention: logs.RetentionDays;
  /**
   * Whether the access log records the caller's IAM identity (`caller`, `user`): only an API with
   * AWS_IAM authorization has one; an unauthenticated caller would log nothing useful there.
   */
  readonly logIamIdentity: boolean;
}

/**
 * The stage both REST APIs (lookup and webhook) deploy: traced, throttled, metrics on, execution
 * logs at ERROR, never a body or header logged (a lookup response carries a presigned URL, a webhook
 * body may name files under legal hold and its headers carry a signature), and a JSON access log
 * with the source IP in its own log group, created in `scope` as `AccessLogs`. The group is
 * retained when the stateless stack is replaced: who called is audit evidence.
 */
export function createLoggedStage(
  scope: Construct,
  props: LoggedStageProps,
): { accessLogGroup: logs.LogGroup; deployOptions: apigw.StageOptions } {
  const accessLogGroup = new logs.LogGroup(scope, 'AccessLogs', {
    retention: props.logRetention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const deployOptions: apigw.StageOptions = {
    stageName: props.stageName,
    tracingEnabled: true,
    throttlingRateLimit: props.rateLimit,
    throttlingBurstLimit: props.burstLimit,
    metricsEnabled: true,
    loggingLevel: apigw.MethodLoggingLevel.ERROR,
    dataTraceEnabled: false,
    accessLogDestination: new apigw.LogGroupLogDestination(accessLogGroup),
    accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
      caller: props.logIamIdentity,
      httpMethod: true,
      ip: true,
      protocol: true,
      requestTime: true,
      resourcePath: true,
      responseLength: true,
      status: true,
      user: props.logIamIdentity,
    }),
  };
  return { accessLogGroup, deployOptions };
}

/**
 * The stage's execution log group, created by the stack with the configured retention. API Gateway
 * writes execution logs (the stage logs at ERROR) to `API-Gateway-Execution-Logs_<api id>/<stage>`
 * and creates that group itself, outside any stack and without a retention, when it first logs
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html: "API Gateway
 * ... creates a log group with a name of API-Gateway-Execution-Logs_{rest-api-id}/{stage_name}").
 * The stage depends on the group, so the group exists before API Gateway could create it. Retained
 * like the access log: an error line may be evidence.
 */
export function createExecutionLogGroup(
  scope: Construct,
  api: apigw.RestApi,
  /** The stage's name as configured (the stage's own `stageName` is a reference to the stage itself). */
  stageName: string,
  retention: logs.RetentionDays,
): logs.LogGroup {
  const group = new logs.LogGroup(scope, 'ExecutionLogs', {
    logGroupName: `API-Gateway-Execution-Logs_${api.restApiId}/${stageName}`,
    retention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  api.deploymentStage.node.addDependency(group);
  return group;
}
