import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { MAX_WEBHOOK_BODY_BYTES, type WebhookErrorType } from '../../shared/contracts/webhook.js';

/** The rate rule's window (seconds): a source IP is counted over the last 5 minutes. */
export const WEBHOOK_RATE_WINDOW_SECONDS = 300;
/** Seconds a refused sender is told to wait: WAF re-evaluates rates about every 10 s, over a 5-minute window. */
export const WEBHOOK_RATE_RETRY_AFTER_SECONDS = 60;

/**
 * WAF's body inspection limits for API Gateway (the values of `DefaultSizeInspectionLimit`), in bytes.
 * "KB" is KiB here: the default, KB_16, is documented as 16,384 bytes.
 */
const INSPECTION_LIMITS = [
  ['KB_16', 16 * 1024],
  ['KB_32', 32 * 1024],
  ['KB_48', 48 * 1024],
  ['KB_64', 64 * 1024],
] as const;

export interface WebhookWebAclProps {
  readonly namePrefix: string;
  /** Requests per source IP per 5 minutes (archiver:webhookIpRateLimit). */
  readonly ipRateLimit: number;
}

/** A body in the function's JSON error shape, as WAF serves it (Content-Type from the body's ContentType). */
function errorBody(type: WebhookErrorType, message: string): wafv2.CfnWebACL.CustomResponseBodyProperty {
  return { contentType: 'APPLICATION_JSON', content: JSON.stringify({ error: { type, message } }) };
}

/**
 * The webhook stage's regional web ACL: everything is allowed except
 *
 * 1. `RateLimitPerIp`: a source IP over `ipRateLimit` requests in 5 minutes gets 429 (Retry-After),
 *    so one sender cannot use up the stage throttle that every sender shares;
 * 2. `BodyTooLarge`: a body over the function's limit (MAX_WEBHOOK_BODY_BYTES, 64 KiB) gets 413.
 *
 * Why rule 2 is needed: API Gateway REST passes bodies up to 10 MB, but a body whose invocation
 * payload exceeds Lambda's 6 MB fails before the function runs and the caller sees API Gateway's 5xx;
 * the function answers 413 only for what reaches it. Facts relied on, from the AWS WAF documentation:
 *
 * - WAF inspects at most the first 16 KB (16,384 bytes) of an API Gateway body by default; the web
 *   ACL's `AssociationConfig.RequestBody.API_GATEWAY.DefaultSizeInspectionLimit` raises that to
 *   KB_32, KB_48 or KB_64, for additional fees on bodies larger than the default
 *   (https://docs.aws.amazon.com/waf/latest/APIReference/API_RequestBodyAssociatedResourceTypeConfig.html).
 * - A statement over `Body` with `OversizeHandling: MATCH` treats a body larger than the inspection
 *   limit as matching (https://docs.aws.amazon.com/waf/latest/APIReference/API_Body.html).
 *
 * So the inspection limit is set to the smallest one holding the function's limit (KB_64 = 65,536
 * bytes = MAX_WEBHOOK_BODY_BYTES) and the rule is "size > MAX_WEBHOOK_BODY_BYTES, oversize matches":
 * every body the function accepts (≤ 65,536 bytes) is inspected whole and passes; every larger one
 * is beyond the limit and matches, whatever its size. With the default 16 KB limit, MATCH would
 * refuse bodies of 16-64 KiB that the function accepts, and CONTINUE or NO_MATCH could never see
 * past 16 KB. The extra fee applies only to requests whose body is over 16 KB.
 *
 * No AWS managed rule group: the Core rule set blocks bodies over 8 KB (SizeRestrictions_BODY) and
 * its other body rules pattern-match text that a valid, signed JSON event may contain (a `reason`);
 * every request is authenticated by its HMAC signature and schema-validated in the function, so a
 * signature-less probe costs one 401. An operator who needs managed rules can bring an ACL
 * (archiver:webhookWebAclArn) and must keep a body size rule in it.
 *
 * Sampled requests are off: a sample keeps the request's headers, and the webhook never records its
 * signature headers. CloudWatch metrics per rule are on (the dashboard charts them).
 */
export class WebhookWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  /** The `MetricName` of each rule and of the ACL, for the AWS/WAFV2 metrics. */
  readonly metricNames: { readonly acl: string; readonly rateLimit: string; readonly bodyTooLarge: string };

  constructor(scope: Construct, id: string, props: WebhookWebAclProps) {
    super(scope, id);
    const limit = INSPECTION_LIMITS.find(([, bytes]) => bytes >= MAX_WEBHOOK_BODY_BYTES);
    if (!limit)
      throw new Error(
        `WAF cannot inspect a ${MAX_WEBHOOK_BODY_BYTES}-byte API Gateway body: the largest limit is 64 KiB`,
      );
    const [inspectionLimit] = limit;

    const name = `${props.namePrefix}-webhook`;
    this.metricNames = { acl: name, rateLimit: `${name}-rate-limit-per-ip`, bodyTooLarge: `${name}-body-too-large` };
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: false,
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name,
      description:
        'Claude file archiver webhook: 429 per source IP over the rate, 413 for a body over the function limit',
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(this.metricNames.acl),
      associationConfig: { requestBody: { API_GATEWAY: { defaultSizeInspectionLimit: inspectionLimit } } },
      customResponseBodies: {
        'rate-limited': errorBody('rate_limited', 'Too many requests from this address; slow down and send again.'),
        'payload-too-large': errorBody('payload_too_large', `The body is larger than ${MAX_WEBHOOK_BODY_BYTES} bytes.`),
      },
      rules: [
        {
          name: 'RateLimitPerIp',
          priority: 0,
          statement: {
            rateBasedStatement: {
              limit: props.ipRateLimit,
              evaluationWindowSec: WEBHOOK_RATE_WINDOW_SECONDS,
              aggregateKeyType: 'IP',
            },
          },
          action: {
            block: {
              customResponse: {
                responseCode: 429,
                customResponseBodyKey: 'rate-limited',
                responseHeaders: [{ name: 'Retry-After', value: String(WEBHOOK_RATE_RETRY_AFTER_SECONDS) }],
              },
            },
          },
          visibilityConfig: visibility(this.metricNames.rateLimit),
        },
        {
          name: 'BodyTooLarge',
          priority: 1,
          statement: {
            sizeConstraintStatement: {
              fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
              comparisonOperator: 'GT',
              size: MAX_WEBHOOK_BODY_BYTES,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          action: { block: { customResponse: { responseCode: 413, customResponseBodyKey: 'payload-too-large' } } },
          visibilityConfig: visibility(this.metricNames.bodyTooLarge),
        },
      ],
    });
  }
}
