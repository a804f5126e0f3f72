import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LOOKUP_ROUTES, type LookupRole } from '../../shared/contracts/lookup-routes.js';
import { acknowledgeWildcardResource } from '../nag.js';
import { createExecutionLogGroup, createLoggedStage } from './rest-api-stage.js';

// The routes (one method each, proxied to the lookup function) come from shared/contracts/lookup-routes.ts,
// which the handler serves; the role policies and request validation are derived from them.
export { LOOKUP_ROUTES } from '../../shared/contracts/lookup-routes.js';

export const LOOKUP_STAGE = 'v1';

export interface LookupApiProps {
  readonly handler: lambda.IFunction;
  readonly namePrefix: string;
  /** Stage-wide throttling (requests per second, burst). */
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A regional REST API in front of the lookup function. Every method requires AWS_IAM (SigV4)
 * authorization, so only principals of this account holding execute-api:Invoke on the route can
 * call it, and the caller's IAM identity lands in the access log next to each request. Request
 * validation rejects a request missing a path parameter before it reaches the function; the
 * function validates the values themselves.
 */
export class LookupApi extends Construct {
  readonly api: apigw.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  /** API Gateway's execution log group of the stage (createExecutionLogGroup). */
  readonly executionLogGroup: logs.LogGroup;
  /** Grants execute-api:Invoke on exactly the routes whose roles include `auditor`, on the deployed stage. */
  readonly auditorPolicy: iam.ManagedPolicy;
  /** The same for `legalAdmin`. */
  readonly legalAdminPolicy: iam.ManagedPolicy;
  /** The same for `operator`; the service stack adds the operator's queue and table grants to it. */
  readonly operatorPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: LookupApiProps) {
    super(scope, id);

    const stage = createLoggedStage(this, {
      stageName: LOOKUP_STAGE,
      rateLimit: props.rateLimit,
      burstLimit: props.burstLimit,
      logRetention: props.logRetention,
      // SigV4 callers: the IAM identity of each request lands in the access log.
      logIamIdentity: true,
    });
    this.accessLogGroup = stage.accessLogGroup;

    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `${props.namePrefix}-lookup`,
      description: 'Claude file archiver lookup API (IAM-authenticated; reads, and legal-hold matters)',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      // Access and execution logs need the account-level API Gateway CloudWatch role. It is an
      // account/region singleton, so it is retained rather than removed with this stack.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: stage.deployOptions,
    });
    this.executionLogGroup = createExecutionLogGroup(this, this.api, LOOKUP_STAGE, props.logRetention);
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAF web ACL: every method requires SigV4 (AWS_IAM), so unsigned ' +
        'traffic is rejected by API Gateway before any integration runs, ' +
        'and the stage is throttled; a web ACL would add cost without ' +
        'a threat it mitigates here. Attach one if the account policy ' +
        'requires it.',
    });
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id:
          'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/' +
          'service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The AWS-managed policy made for the API Gateway account CloudWatch ' +
          'role, required for the stage access and execution logs; it grants ' +
          'only CloudWatch Logs actions.',
      });
    }

    const validator = this.api.addRequestValidator('ParametersValidator', {
      requestValidatorName: 'parameters',
      validateRequestParameters: true,
      // The routes are GETs without a request model, so this checks nothing today; it keeps any
      // method added later with a body model validated (and it is what cdk-nag APIG2 looks for).
      validateRequestBody: true,
    });
    // One permission per method, scoped to the stage and route; no test-invoke permission.
    const integration = new apigw.LambdaIntegration(props.handler, { allowTestInvoke: false });

    for (const route of LOOKUP_ROUTES) {
      const resource = this.api.root.resourceForPath(route.resource);
      const requestParameters: Record<string, boolean> = {};
      for (const name of pathParameters(route.resource)) requestParameters[`method.request.path.${name}`] = true;
      for (const name of route.query) requestParameters[`method.request.querystring.${name}`] = false;
      const method = resource.addMethod(route.method, integration, {
        authorizationType: apigw.AuthorizationType.IAM,
        requestValidator: validator,
        requestParameters,
      });
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'Callers are auditors and tools with AWS identities; the method ' +
          'uses AWS_IAM (SigV4) authorization, which identifies the IAM ' +
          'principal, instead of a Cognito user pool.',
      });
    }

    // One managed policy per role (shared/contracts/lookup-routes.ts): execute-api:Invoke on exactly the
    // routes that list the role. A path parameter becomes "*": one route and method on one stage, any id.
    // IAM for API Gateway: execute-api:Invoke on arn:aws:execute-api:region:account:api-id/stage/METHOD/path
    // ("Control access for invoking an API", API Gateway Developer Guide).
    const policyFor = (role: LookupRole, id: string, description: string): iam.ManagedPolicy => {
      const routes = LOOKUP_ROUTES.filter((route) => (route.roles as readonly LookupRole[]).includes(role));
      const arnOf = (route: (typeof routes)[number]) =>
        this.api.arnForExecuteApi(route.method, route.resource.replace(/\{[^}]+\}/g, '*'), LOOKUP_STAGE);
      const routeArns = routes.map(arnOf);
      const policy = new iam.ManagedPolicy(this, id, {
        description,
        statements: [
          new iam.PolicyStatement({ sid: 'InvokeLookupRoutes', actions: ['execute-api:Invoke'], resources: routeArns }),
        ],
      });
      for (const arn of routeArns.filter((a) => a.includes('*'))) {
        acknowledgeWildcardResource(
          policy,
          arn,
          'The "*" stands for a path parameter (a chat, file or matter ' +
            'id); the grant is one route on one stage of this API.',
        );
      }
      return policy;
    };
    this.auditorPolicy = policyFor(
      'auditor',
      'AuditorPolicy',
      'Auditor: search, read, download and verify archived files, read the access trail (lookup API, this stage only)',
    );
    this.legalAdminPolicy = policyFor(
      'legalAdmin',
      'LegalAdminPolicy',
      "Legal admin: the auditor's lookup routes plus legal holds and exports (lookup API, this stage only)",
    );
    this.operatorPolicy = policyFor(
      'operator',
      'OperatorPolicy',
      'Operator: discovery runs on the lookup API; status, dead letters, redrive and reindex on the queues and index',
    );
  }
}

/**
 * Lets one browser origin (the auditor console) call the API: an unauthenticated OPTIONS preflight on
 * each route's resource naming only that origin, and the same header on API Gateway's own error
 * answers (a refused signature, a missing grant), so the console can read why it was refused. The
 * function's answers carry it themselves (CONSOLE_ORIGIN).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html
 */
export function allowBrowserOrigin(api: apigw.RestApi, origin: string): void {
  for (const route of LOOKUP_ROUTES) {
    const resource = api.root.resourceForPath(route.resource);
    if (resource.node.tryFindChild('OPTIONS')) continue;
    const preflight = resource.addCorsPreflight({
      allowOrigins: [origin],
      allowMethods: [...CORS_ALLOWED_METHODS],
      allowHeaders: [...CORS_ALLOWED_HEADERS],
      maxAge: Duration.minutes(10),
    });
    Validations.of(preflight).acknowledge(
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'A CORS preflight (OPTIONS, mock integration) must be unauthenticated: ' +
          'browsers send it without credentials. It reaches no function ' +
          'or data.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason: 'A CORS preflight carries no credentials by design; the routes themselves require SigV4.',
      },
    );
  }
  for (const [id, type] of [
    ['Default4xx', apigw.ResponseType.DEFAULT_4XX],
    ['Default5xx', apigw.ResponseType.DEFAULT_5XX],
  ] as const) {
    api.addGatewayResponse(id, {
      type,
      responseHeaders: { 'Access-Control-Allow-Origin': `'${origin}'`, Vary: "'Origin'" },
    });
  }
}

/** What the console sends: reads, and the workbench's writes (holds, exports); JSON bodies and SigV4 headers. */
export const CORS_ALLOWED_METHODS = ['GET', 'POST', 'DELETE'] as const;
export const CORS_ALLOWED_HEADERS = ['Content-Type', 'Authorization', 'X-Amz-Date', 'X-Amz-Security-Token'] as const;

/** `/chats/{chatId}/files` → `['chatId']`. */
function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
}
