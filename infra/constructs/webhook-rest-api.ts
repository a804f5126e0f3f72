import { Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, type IDependable } from 'constructs';
import { WEBHOOK_HEADERS, WEBHOOK_ROUTE } from '../../shared/contracts/webhook.js';
import { createExecutionLogGroup, createLoggedStage } from './rest-api-stage.js';
import { WebhookWebAcl } from './webhook-web-acl.js';

export const WEBHOOK_STAGE = 'v1';

export interface WebhookApiProps {
  readonly handler: lambda.IFunction;
  readonly namePrefix: string;
  /** Stage-wide throttling (requests per second, burst): over it, API Gateway answers 429. */
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly logRetention: logs.RetentionDays;
  /**
   * The stage's regional WAFv2 web ACL: one this API creates (a body size rule and a per-IP rate
   * rule, webhook-web-acl.ts), an existing one by ARN, or none (bodies over Lambda's 6 MB payload
   * limit then get API Gateway's 5xx instead of 413).
   */
  readonly webAcl: WebhookWebAclChoice;
  /**
   * What sets the account's API Gateway CloudWatch role (the lookup API's `Account`), which stage
   * logging needs; an account has one, so this API does not create a second.
   */
  readonly cloudWatchAccount?: IDependable | undefined;
}

export type WebhookWebAclChoice =
  | { readonly kind: 'create'; readonly ipRateLimit: number }
  | { readonly kind: 'existing'; readonly arn: string }
  | { readonly kind: 'none' };

/** API Gateway's own refusals, in the function's JSON error shape (`{"error":{"type","message"}}`). */
const GATEWAY_RESPONSES: {
  id: string;
  type: apigw.ResponseType;
  status?: string;
  errorType: string;
  message: string;
  headers?: Record<string, string>;
}[] = [
  {
    id: 'Throttled',
    type: apigw.ResponseType.THROTTLED,
    status: '429',
    errorType: 'rate_limited',
    message: '"Too many requests; slow down and send again."',
    headers: { 'Retry-After': "'1'" },
  },
  {
    id: 'TooLarge',
    type: apigw.ResponseType.REQUEST_TOO_LARGE,
    status: '413',
    errorType: 'payload_too_large',
    message: '"The body is too large."',
  },
  // A REST API answers an unknown path or method with 403 "Missing Authentication Token".
  {
    id: 'NoRoute',
    type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    status: '404',
    errorType: 'not_found',
    message: '"No such route."',
  },
  // The only required parameters are the three webhook headers: without them nothing can be verified.
  {
    id: 'NoSignature',
    type: apigw.ResponseType.BAD_REQUEST_PARAMETERS,
    status: '401',
    errorType: 'unauthorized',
    message: '"The webhook-id, webhook-timestamp and webhook-signature headers are required."',
  },
  {
    id: 'Default4xx',
    type: apigw.ResponseType.DEFAULT_4XX,
    errorType: 'invalid_request',
    message: '$context.error.messageString',
  },
  {
    id: 'Default5xx',
    type: apigw.ResponseType.DEFAULT_5XX,
    errorType: 'service_unavailable',
    message: '"The event could not be processed now; send the same delivery again later."',
  },
];

/**
 * A regional REST API with one method, `POST /events`, proxied to the webhook function; separate from
 * the IAM-authenticated lookup API because its callers are an organization's own systems, which
 * authenticate with a Standard Webhooks signature. API Gateway's authorizers never see the body, so
 * the function checks the signature; the gateway throttles the stage, requires the three webhook
 * headers, logs every request (never the body) and passes every media type through as binary, so
 * the function verifies exactly the bytes that were signed. A WAF web ACL in front of the stage
 * refuses bodies too large for the function (413) and floods from one address (429).
 */
export class WebhookApi extends Construct {
  readonly api: apigw.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  /** API Gateway's execution log group of the stage (createExecutionLogGroup). */
  readonly executionLogGroup: logs.LogGroup;
  /** The URL senders post to. */
  readonly eventsUrl: string;
  /** The web ACL this API created (archiver:webhookWebAcl=create without an existing ARN). */
  readonly webAcl?: WebhookWebAcl;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);

    const stage = createLoggedStage(this, {
      stageName: WEBHOOK_STAGE,
      rateLimit: props.rateLimit,
      burstLimit: props.burstLimit,
      logRetention: props.logRetention,
      // No IAM identity: callers are authenticated by their signature, in the function.
      logIamIdentity: false,
    });
    this.accessLogGroup = stage.accessLogGroup;

    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `${props.namePrefix}-webhook`,
      description: 'Claude file archiver webhook ingress (Standard Webhooks signatures, checked by the function)',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // Every body reaches the function base64-encoded, byte for byte: the signature covers raw bytes.
      binaryMediaTypes: ['*/*'],
      cloudWatchRole: false,
      deployOptions: stage.deployOptions,
    });
    if (props.cloudWatchAccount) this.api.deploymentStage.node.addDependency(props.cloudWatchAccount);
    this.executionLogGroup = createExecutionLogGroup(this, this.api, WEBHOOK_STAGE, props.logRetention);

    for (const r of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(r.id, {
        type: r.type,
        ...(r.status ? { statusCode: r.status } : {}),
        responseHeaders: { 'Content-Type': "'application/json'", 'Cache-Control': "'no-store'", ...r.headers },
        templates: { 'application/json': `{"error":{"type":"${r.errorType}","message":${r.message}}}` },
      });
    }

    const validator = this.api.addRequestValidator('HeadersValidator', {
      requestValidatorName: 'webhook-headers',
      validateRequestParameters: true,
      // No body model: the body is opaque bytes until the function has verified its signature.
      validateRequestBody: true,
    });
    const method = this.api.root
      .resourceForPath(WEBHOOK_ROUTE.resource)
      .addMethod(WEBHOOK_ROUTE.method, new apigw.LambdaIntegration(props.handler, { allowTestInvoke: false }), {
        authorizationType: apigw.AuthorizationType.NONE,
        requestValidator: validator,
        requestParameters: Object.fromEntries(
          Object.values(WEBHOOK_HEADERS).map((h) => [`method.request.header.${h}`, true]),
        ),
      });
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Authenticated by its Standard Webhooks signature (HMAC-SHA256 ' +
        'over id, timestamp and body, secrets in Secrets Manager), which ' +
        'only the function can check: API Gateway authorizers never see ' +
        'the body. Callers are external systems without AWS identities.',
    });
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Callers are an organization’s own systems (DLP, ticketing, legal ' +
        'hold) that sign requests with a shared Standard Webhooks secret; ' +
        'they have no Cognito users. The function verifies every signature.',
    });

    let webAclArn: string | undefined;
    if (props.webAcl.kind === 'create') {
      this.webAcl = new WebhookWebAcl(this, 'Waf', {
        namePrefix: props.namePrefix,
        ipRateLimit: props.webAcl.ipRateLimit,
      });
      webAclArn = this.webAcl.webAcl.attrArn;
    } else if (props.webAcl.kind === 'existing') {
      webAclArn = props.webAcl.arn;
    }
    if (webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn,
      });
    } else {
      Validations.of(this.api.deploymentStage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'Web ACL explicitly turned off (archiver:webhookWebAcl=none): ' +
          'every request is authenticated by its signature in the function, ' +
          'the stage is throttled, and requests without the webhook headers ' +
          'are refused by API Gateway; a body over Lambda’s 6 MB payload ' +
          'limit is then answered 5xx by API Gateway instead of 413.',
      });
    }

    this.eventsUrl = this.api.urlForPath(WEBHOOK_ROUTE.resource);
  }
}
