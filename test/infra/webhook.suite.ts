import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WEBHOOK_STAGE } from '../../infra/constructs/webhook-rest-api.js';
import { WebhookConfigSchema, WorkerBudgetConfigSchema } from '../../shared/contracts/lambda-environment.js';
import { WEBHOOK_REPLAY_TABLE_KEYS } from '../../shared/contracts/table-keys.js';
import { MAX_WEBHOOK_BODY_BYTES, WEBHOOK_ERROR_TYPES } from '../../shared/contracts/webhook.js';
import {
  CUSTOM_CONTEXT,
  logicalIdOf,
  onlyResource,
  resourcesOf,
  synthArchiver,
  type ArchiverSynths,
  type CfnResource,
} from './archiver-fixture.js';

/** The webhook ingress: its own API, its function, its secret and replay table. One test per property. */
export function describeWebhook({ defaults, custom }: ArchiverSynths): void {
  const t = defaults.serviceTemplate;
  const apiId = logicalIdOf(defaults.service.webhook.api.api);
  const ofApi = (type: string, template = t, id = apiId): CfnResource[] =>
    Object.values(resourcesOf(template, type)).filter((r) => r.Properties['RestApiId']?.Ref === id);
  const stage = (template = t) =>
    onlyResource(template, 'AWS::ApiGateway::Stage', 'WebhookApiDeploymentStage').Properties;
  const fn = () => onlyResource(t, 'AWS::Lambda::Function', 'WebhookFunction').Properties;
  const env = () => z.object({ Variables: z.record(z.string(), z.unknown()) }).parse(fn()['Environment']).Variables;

  describe('webhook API', () => {
    it('is a regional REST API of its own, separate from the IAM-protected lookup API', () => {
      const apis = resourcesOf(t, 'AWS::ApiGateway::RestApi');
      expect(Object.keys(apis).sort()).toEqual([logicalIdOf(defaults.service.lookupApi.api), apiId].sort());
      expect(apis[apiId]?.Properties).toMatchObject({
        Name: 'claude-file-archiver-dev-webhook',
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
    });

    it('passes every media type to the function as binary, so the signature is checked over the raw bytes', () => {
      expect(resourcesOf(t, 'AWS::ApiGateway::RestApi')[apiId]?.Properties['BinaryMediaTypes']).toEqual(['*/*']);
    });

    it('has one method, POST /events, without an authorizer, proxied to the webhook function', () => {
      const methods = ofApi('AWS::ApiGateway::Method');
      expect(methods).toHaveLength(1);
      const resource = ofApi('AWS::ApiGateway::Resource');
      expect(resource.map((r) => r.Properties['PathPart'])).toEqual(['events']);
      expect(methods[0]?.Properties).toMatchObject({
        HttpMethod: 'POST',
        AuthorizationType: 'NONE',
        Integration: { Type: 'AWS_PROXY' },
      });
      expect(JSON.stringify(methods[0]?.Properties['Integration'].Uri)).toContain(
        logicalIdOf(defaults.service.webhook.function.function),
      );
    });

    it('requires the three webhook headers, checked by a request validator', () => {
      const method = ofApi('AWS::ApiGateway::Method')[0]?.Properties;
      expect(method?.['RequestParameters']).toEqual({
        'method.request.header.webhook-id': true,
        'method.request.header.webhook-timestamp': true,
        'method.request.header.webhook-signature': true,
      });
      const validator = resourcesOf(t, 'AWS::ApiGateway::RequestValidator')[method?.['RequestValidatorId'].Ref];
      expect(validator?.Properties['ValidateRequestParameters']).toBe(true);
    });

    it('throttles the stage at 10 requests/s with a burst of 20 by default, from configuration otherwise', () => {
      const throttling = (template: typeof t) => stage(template)['MethodSettings'][0];
      expect(throttling(t)).toMatchObject({
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: 10,
        ThrottlingBurstLimit: 20,
      });
      expect(throttling(custom.serviceTemplate)).toMatchObject({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    });

    it(
      'access-logs every request as JSON with the source IP to its ' +
        'own retained log group, traces, and never logs data',
      () => {
        const s = stage();
        expect(s['StageName']).toBe(WEBHOOK_STAGE);
        expect(s['TracingEnabled']).toBe(true);
        expect(JSON.parse(s['AccessLogSetting'].Format)).toMatchObject({
          ip: '$context.identity.sourceIp',
          status: '$context.status',
        });
        const groupId = logicalIdOf(defaults.service.webhook.api.accessLogGroup);
        expect(JSON.stringify(s['AccessLogSetting'].DestinationArn)).toContain(groupId);
        expect(resourcesOf(t, 'AWS::Logs::LogGroup')[groupId]).toMatchObject({
          DeletionPolicy: 'Retain',
          Properties: { RetentionInDays: 365 },
        });
        expect(s['MethodSettings'][0]).toMatchObject({ LoggingLevel: 'ERROR', DataTraceEnabled: false });
      },
    );

    it(
      'answers its own refusals in the function’s JSON error shape: ' +
        '429 (Retry-After), 413, 404, 401, other 4xx and 5xx',
      () => {
        const responses = Object.fromEntries(
          ofApi('AWS::ApiGateway::GatewayResponse').map((r) => [r.Properties['ResponseType'], r.Properties]),
        );
        const expected: [string, string | undefined, string][] = [
          ['THROTTLED', '429', 'rate_limited'],
          ['REQUEST_TOO_LARGE', '413', 'payload_too_large'],
          ['MISSING_AUTHENTICATION_TOKEN', '404', 'not_found'],
          ['BAD_REQUEST_PARAMETERS', '401', 'unauthorized'],
          ['DEFAULT_4XX', undefined, 'invalid_request'],
          ['DEFAULT_5XX', undefined, 'service_unavailable'],
        ];
        expect(Object.keys(responses).sort()).toEqual(expected.map(([type]) => type).sort());
        for (const [type, status, errorType] of expected) {
          const r = responses[type];
          expect(r?.['StatusCode'], type).toBe(status);
          expect(r?.['ResponseParameters']['gatewayresponse.header.Content-Type']).toBe("'application/json'");
          expect(r?.['ResponseTemplates']['application/json']).toMatch(
            new RegExp(`^\\{"error":\\{"type":"${errorType}","message":.+\\}\\}$`),
          );
        }
        expect(responses['THROTTLED']?.['ResponseParameters']['gatewayresponse.header.Retry-After']).toBe("'1'");
      },
    );

    it('associates the configured existing web ACL with the stage instead of creating one', () => {
      expect(resourcesOf(custom.serviceTemplate, 'AWS::WAFv2::WebACL')).toEqual({});
      const associations = Object.values(resourcesOf(custom.serviceTemplate, 'AWS::WAFv2::WebACLAssociation'));
      expect(associations).toHaveLength(1);
      expect(associations[0]?.Properties['WebACLArn']).toBe(CUSTOM_CONTEXT['archiver:webhookWebAclArn']);
      const stageId = logicalIdOf(custom.service.webhook.api.api.deploymentStage);
      expect(JSON.stringify(associations[0]?.Properties['ResourceArn'])).toContain(stageId);
    });

    it('is cdk-nag clean with an existing web ACL too', () => {
      const report = new AwsSolutionsChecks().validateScope(custom.app);
      expect(
        report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(',')}`),
      ).toEqual([]);
    });

    it('lets the webhook function be invoked only by POST /events of this stage (no test-invoke)', () => {
      const ref = JSON.stringify({ 'Fn::GetAtt': [logicalIdOf(defaults.service.webhook.function.function), 'Arn'] });
      const permissions = Object.values(resourcesOf(t, 'AWS::Lambda::Permission')).filter(
        (p) => JSON.stringify(p.Properties['FunctionName']) === ref,
      );
      expect(permissions).toHaveLength(1);
      const arn = JSON.stringify(permissions[0]?.Properties['SourceArn']);
      expect(arn).toContain(
        `${JSON.stringify({ Ref: logicalIdOf(defaults.service.webhook.api.api.deploymentStage) })},"/POST/events"`,
      );
    });
  });

  describe('webhook web ACL', () => {
    const acl = (template = t) => onlyResource(template, 'AWS::WAFv2::WebACL', 'WebhookApiWaf').Properties;
    const rule = (name: string, template = t) => {
      const found = z
        .array(z.record(z.string(), z.any()))
        .parse(acl(template)['Rules'])
        .find((r) => r['Name'] === name);
      if (!found) throw new Error(`no rule ${name}`);
      return found;
    };
    /** The custom response body a rule's block action names, parsed as JSON. */
    // biome-ignore lint/suspicious/noExplicitAny: a CloudFormation property tree, read only to assert on it
    const responseBody = (r: Record<string, any>) => {
      const body = acl()['CustomResponseBodies'][r['Action'].Block.CustomResponse.CustomResponseBodyKey];
      expect(body.ContentType).toBe('APPLICATION_JSON');
      return z
        .object({ error: z.object({ type: z.enum(WEBHOOK_ERROR_TYPES), message: z.string().min(1) }) })
        .strict()
        .parse(JSON.parse(body.Content));
    };
    const webhookStageAcks = (synth: typeof defaults) =>
      synth.service.webhook.api.api.deploymentStage.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.keys(z.record(z.string(), z.string()).parse(m.data)))
        .map((id) => id.replace(/^annotation::/i, ''));
    // Configurations beyond the shared two: a rate from configuration, and the explicit opt-out.
    const rated = synthArchiver({ 'archiver:webhookIpRateLimit': '600' }, { builtinCloudFormationValidation: false });
    const optedOut = synthArchiver({ 'archiver:webhookWebAcl': 'none' }, { builtinCloudFormationValidation: false });

    it('is created by default: one regional web ACL that allows what no rule refuses', () => {
      expect(Object.keys(resourcesOf(t, 'AWS::WAFv2::WebACL'))).toHaveLength(1);
      expect(acl()).toMatchObject({
        Name: 'claude-file-archiver-dev-webhook',
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
      });
    });

    it('is associated with the webhook stage only (the lookup API is SigV4-only)', () => {
      const associations = Object.values(resourcesOf(t, 'AWS::WAFv2::WebACLAssociation'));
      expect(associations).toHaveLength(1);
      expect(associations[0]?.Properties['WebACLArn']).toEqual({
        'Fn::GetAtt': [logicalIdOf(defaults.service.webhook.api.webAcl!.webAcl), 'Arn'],
      });
      const arn = JSON.stringify(associations[0]?.Properties['ResourceArn']);
      expect(arn).toContain(JSON.stringify({ Ref: logicalIdOf(defaults.service.webhook.api.api.deploymentStage) }));
      expect(arn).not.toContain(logicalIdOf(defaults.service.lookupApi.api.deploymentStage));
    });

    it(
      'inspects API Gateway bodies up to 64 KiB, the function’s limit ' +
        '(KB_64 = 65,536 bytes), not the default 16 KB',
      () => {
        expect(MAX_WEBHOOK_BODY_BYTES).toBe(65_536);
        expect(acl()['AssociationConfig']).toEqual({
          RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: 'KB_64' } },
        });
      },
    );

    it(
      'refuses a body over the function’s limit with 413, a larger-than-inspectable ' +
        'body included (OversizeHandling MATCH)',
      () => {
        const r = rule('BodyTooLarge');
        expect(r['Statement']).toEqual({
          SizeConstraintStatement: {
            FieldToMatch: { Body: { OversizeHandling: 'MATCH' } },
            ComparisonOperator: 'GT',
            Size: MAX_WEBHOOK_BODY_BYTES,
            TextTransformations: [{ Priority: 0, Type: 'NONE' }],
          },
        });
        expect(r['Action'].Block.CustomResponse.ResponseCode).toBe(413);
      },
    );

    it('answers 413 with the function’s JSON error body (payload_too_large)', () => {
      expect(responseBody(rule('BodyTooLarge')).error.type).toBe('payload_too_large');
    });

    it('limits each source IP to 1500 requests per 5 minutes by default, from configuration otherwise', () => {
      const statement = (template: typeof t) => rule('RateLimitPerIp', template)['Statement'];
      expect(statement(t)).toEqual({
        RateBasedStatement: { AggregateKeyType: 'IP', EvaluationWindowSec: 300, Limit: 1500 },
      });
      expect(statement(rated.serviceTemplate)).toMatchObject({ RateBasedStatement: { Limit: 600 } });
    });

    it('answers a rate-limited source 429 with Retry-After and the function’s JSON error body (rate_limited)', () => {
      const r = rule('RateLimitPerIp');
      expect(r['Action'].Block.CustomResponse).toMatchObject({
        ResponseCode: 429,
        ResponseHeaders: [{ Name: 'Retry-After', Value: '60' }],
      });
      expect(responseBody(r).error.type).toBe('rate_limited');
    });

    it(
      'has exactly these two rules, the rate counted first, and no ' +
        'managed rule group (the Core rule set blocks bodies over 8 KB)',
      () => {
        const rules = z.array(z.record(z.string(), z.any())).parse(acl()['Rules']);
        expect(rules.map((r) => [r['Priority'], r['Name']])).toEqual([
          [0, 'RateLimitPerIp'],
          [1, 'BodyTooLarge'],
        ]);
        expect(JSON.stringify(acl())).not.toContain('ManagedRuleGroupStatement');
      },
    );

    it(
      'publishes CloudWatch metrics per rule but keeps no sampled requests ' +
        '(they would hold the signature headers)',
      () => {
        for (const config of [
          acl()['VisibilityConfig'],
          ...z
            .array(z.record(z.string(), z.any()))
            .parse(acl()['Rules'])
            .map((r) => r['VisibilityConfig']),
        ]) {
          expect(config).toMatchObject({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: false });
        }
      },
    );

    it('leaves no AwsSolutions-APIG3 acknowledgment on the webhook stage when it has a web ACL', () => {
      expect(webhookStageAcks(defaults)).not.toContain('AwsSolutions-APIG3');
      expect(webhookStageAcks(custom)).not.toContain('AwsSolutions-APIG3');
    });

    it(
      'can be turned off explicitly: no web ACL, no association, and ' + 'the APIG3 acknowledgment says what is lost',
      () => {
        expect(resourcesOf(optedOut.serviceTemplate, 'AWS::WAFv2::WebACL')).toEqual({});
        expect(resourcesOf(optedOut.serviceTemplate, 'AWS::WAFv2::WebACLAssociation')).toEqual({});
        expect(webhookStageAcks(optedOut)).toEqual(['AwsSolutions-APIG3']);
        const report = new AwsSolutionsChecks().validateScope(optedOut.app);
        expect(
          report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(',')}`),
        ).toEqual([]);
      },
    );
  });

  describe('webhook function', () => {
    it('is configured with exactly the variables the webhook schema reads in AWS, and they validate', () => {
      const deployed = Object.fromEntries(
        Object.entries(env()).map(([k, v]) => [k, typeof v === 'string' ? v : `resolved-${k.toLowerCase()}`]),
      );
      deployed['INGEST_QUEUE_URL'] = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest';
      expect(Object.keys(deployed).sort()).toEqual(
        [
          'INGEST_QUEUE_URL',
          'WEBHOOK_REPLAY_TABLE',
          'WEBHOOK_SECRET_ARN',
          'ANTHROPIC_API_KEY_SECRET_ARN',
          'ANTHROPIC_BASE_URL',
          'REPLAY_RETENTION_HOURS',
          'INDEX_TABLE',
          'COMPLIANCE_REQUESTS_PER_MINUTE',
          'FILES_API_REQUESTS_PER_MINUTE',
          'POLLER_BUDGET_SHARE',
          'BUDGET_MAX_WAIT_MS',
          'POWERTOOLS_SERVICE_NAME',
          'POWERTOOLS_METRICS_NAMESPACE',
          'POWERTOOLS_LOG_LEVEL',
          'NODE_OPTIONS',
        ].sort(),
      );
      expect(WebhookConfigSchema.safeParse(deployed).error?.issues ?? []).toEqual([]);
      expect(WorkerBudgetConfigSchema.safeParse(deployed).error?.issues ?? []).toEqual([]);
      expect(env()['REPLAY_RETENTION_HOURS']).toBe('72');
      const customEnv = onlyResource(custom.serviceTemplate, 'AWS::Lambda::Function', 'WebhookFunction').Properties[
        'Environment'
      ].Variables;
      expect(customEnv['REPLAY_RETENTION_HOURS']).toBe('24');
    });

    it('never carries a secret in its environment: both are named by ARN', () => {
      expect(env()).not.toHaveProperty('WEBHOOK_SECRETS');
      expect(env()).not.toHaveProperty('ANTHROPIC_API_KEY');
      expect(JSON.stringify(env()['WEBHOOK_SECRET_ARN'])).toContain(logicalIdOf(defaults.data.webhook.secret));
    });

    it('draws a chat fan-out’s upstream requests from the shared budget, waiting at most 5 s for it', () => {
      expect(env()).toMatchObject({
        COMPLIANCE_REQUESTS_PER_MINUTE: '600',
        POLLER_BUDGET_SHARE: '0.3',
        BUDGET_MAX_WAIT_MS: '5000',
      });
      const customEnv = onlyResource(custom.serviceTemplate, 'AWS::Lambda::Function', 'WebhookFunction').Properties[
        'Environment'
      ].Variables;
      expect(customEnv).toMatchObject({ COMPLIANCE_REQUESTS_PER_MINUTE: '1200', POLLER_BUDGET_SHARE: '0.2' });
    });

    it('times out before API Gateway’s 29 s integration limit, so a slow dependency is the function’s 503', () => {
      expect(fn()['Timeout']).toBeLessThan(29);
    });
  });

  describe('webhook secret and replay table', () => {
    const pipelineKeyArn = { 'Fn::GetAtt': [logicalIdOf(defaults.data.pipelineKey), 'Arn'] };

    it(
      'the secret is one generated JSON document {"current": …} under ' +
        'the pipeline key, never a value in the template',
      () => {
        const secret = onlyResource(defaults.dataTemplate, 'AWS::SecretsManager::Secret', 'WebhookSecret').Properties;
        expect(secret['KmsKeyId']).toEqual(pipelineKeyArn);
        expect(secret['SecretString']).toBeUndefined();
        expect(secret['GenerateSecretString']).toEqual({
          SecretStringTemplate: '{}',
          GenerateStringKey: 'current',
          PasswordLength: 48,
          ExcludePunctuation: true,
          IncludeSpace: false,
        });
      },
    );

    it('the replay table is keyed by webhook-id, expires items by its TTL attribute, bills on demand', () => {
      const table = onlyResource(defaults.dataTemplate, 'AWS::DynamoDB::Table', 'WebhookReplayTable').Properties;
      expect(table['KeySchema']).toEqual([
        { AttributeName: WEBHOOK_REPLAY_TABLE_KEYS.partitionKey.name, KeyType: 'HASH' },
      ]);
      expect(table['TimeToLiveSpecification']).toEqual({
        AttributeName: WEBHOOK_REPLAY_TABLE_KEYS.timeToLiveAttribute,
        Enabled: true,
      });
      expect(table['BillingMode']).toBe('PAY_PER_REQUEST');
      expect(table['SSESpecification']).toMatchObject({
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: pipelineKeyArn,
      });
      expect(table['PointInTimeRecoverySpecification']).toEqual({ PointInTimeRecoveryEnabled: true });
    });

    it('every stateful table, the replay table included, refuses DeleteTable (deletion protection)', () => {
      for (const synth of [defaults, custom]) {
        const tables = Object.entries(synth.dataTemplate.findResources('AWS::DynamoDB::Table'));
        expect(tables.length).toBeGreaterThanOrEqual(2);
        for (const [id, table] of tables)
          expect((table as { Properties: Record<string, unknown> }).Properties['DeletionProtectionEnabled'], id).toBe(
            true,
          );
      }
    });

    it('the stacks output the webhook URL and the secret’s ARN for operators', () => {
      expect(Object.keys(defaults.serviceTemplate.toJSON()['Outputs'])).toContain('WebhookUrl');
      expect(Object.keys(defaults.dataTemplate.toJSON()['Outputs'])).toEqual(
        expect.arrayContaining(['WebhookSecretArn', 'WebhookReplayTableName']),
      );
    });
  });
}
