import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BUNDLING } from '../../infra/constructs/archiver-function.js';
import { exportV8Flags } from '../../infra/sizing.js';
import {
  IngestConfigSchema,
  LookupConfigSchema,
  ExportConfigSchema,
  WorkerBudgetConfigSchema,
} from '../../shared/contracts/lambda-environment.js';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAMES, WEBHOOK_OUTCOMES } from '../../shared/contracts/metric-names.js';
import { POLLER_SOURCES } from '../../shared/contracts/discovery-sources.js';
import { LOOKUP_ROUTES, LOOKUP_STAGE } from '../../infra/constructs/lookup-rest-api.js';
import type { LookupRole } from '../../shared/contracts/lookup-routes.js';
import { SMOKE_STACK_OUTPUTS, stackNamesOf } from '../../smoke/smoke-target.js';
import { DATA_STACK_OUTPUTS, SERVICE_STACK_OUTPUTS } from '../../shared/contracts/stack-outputs.js';
import {
  asArray,
  logicalIdOf,
  onlyResource,
  resourcesOf,
  statementsOf,
  type ArchiverSynths,
} from './archiver-fixture.js';

/** Template properties of the stateless stack: functions, API, auditor access, alarms, dashboard. */
export function describeServiceStack({ defaults, custom }: ArchiverSynths): void {
  const t = defaults.serviceTemplate;
  const ingestFn = () => onlyResource(t, 'AWS::Lambda::Function', 'IngestFunction').Properties;
  const lookupFn = () => onlyResource(t, 'AWS::Lambda::Function', 'LookupFunction').Properties;
  const webhookFn = () => onlyResource(t, 'AWS::Lambda::Function', 'WebhookFunction').Properties;
  const envOf = (fn: Record<string, unknown>): Record<string, unknown> =>
    z.object({ Variables: z.record(z.string(), z.unknown()) }).parse(fn['Environment']).Variables;
  const RUNTIME_ENV = [
    'POWERTOOLS_SERVICE_NAME',
    'POWERTOOLS_METRICS_NAMESPACE',
    'POWERTOOLS_LOG_LEVEL',
    'NODE_OPTIONS',
  ];

  /** Replaces CloudFormation references (unknown until deploy) with plausible deployed values. */
  function asDeployed(env: Record<string, unknown>): Record<string, string> {
    const sample: Record<string, string> = {
      INGEST_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest',
      HOLD_WORK_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest-dlq',
      EXPORT_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/export',
      ANTHROPIC_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:key-AbCdEf',
    };
    return Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : (sample[k] ?? `resolved-${k.toLowerCase()}`),
      ]),
    );
  }

  describe('ingest function', () => {
    it('runs nodejs24.x on arm64 with active X-Ray tracing (every function)', () => {
      for (const fn of [ingestFn(), lookupFn(), webhookFn()]) {
        expect(fn['Runtime']).toBe('nodejs24.x');
        expect(fn['Architectures']).toEqual(['arm64']);
        expect(fn['TracingConfig']).toEqual({ Mode: 'Active' });
      }
    });

    it('is bundled as minified, tree-shaken ESM with source maps, a require shim, and the AWS SDK inside', () => {
      // The template tests skip bundling; these are the options every function's bundling uses
      // (npm run measure:bundle measures the result).
      expect(BUNDLING).toMatchObject({
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        bundleAwsSDK: true,
        externalModules: [],
      });
      expect(BUNDLING.banner).toMatch(/createRequire.*import\.meta\.url/);
      expect(envOf(ingestFn())['NODE_OPTIONS']).toBe('--enable-source-maps');
    });

    it('has 1024 MB and the 15-minute timeout by default, memory from configuration', () => {
      expect(ingestFn()['MemorySize']).toBe(1024);
      expect(ingestFn()['Timeout']).toBe(900);
      expect(
        onlyResource(custom.serviceTemplate, 'AWS::Lambda::Function', 'IngestFunction').Properties['MemorySize'],
      ).toBe(2048);
    });

    it('is fed by the ingest queue with reportBatchItemFailures', () => {
      const esm = onlyResource(t, 'AWS::Lambda::EventSourceMapping', 'IngestFunctionSqsEventSource').Properties;
      expect(esm['FunctionName']).toEqual({ Ref: logicalIdOf(defaults.service.ingest.function) });
      expect(esm['FunctionResponseTypes']).toEqual(['ReportBatchItemFailures']);
    });

    it('takes batch size, batching window and max concurrency from configuration', () => {
      const esm = (s: typeof t) =>
        onlyResource(s, 'AWS::Lambda::EventSourceMapping', 'IngestFunctionSqsEventSource').Properties;
      expect(esm(t)).toMatchObject({
        BatchSize: 5,
        MaximumBatchingWindowInSeconds: 5,
        ScalingConfig: { MaximumConcurrency: 5 },
      });
      expect(esm(custom.serviceTemplate)).toMatchObject({
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 20,
        ScalingConfig: { MaximumConcurrency: 3 },
      });
    });

    it('has a queue visibility timeout of at least 6 × its timeout', () => {
      const queue = onlyResource(defaults.dataTemplate, 'AWS::SQS::Queue', 'IngestQueue').Properties;
      expect(queue['VisibilityTimeout']).toBeGreaterThanOrEqual(6 * ingestFn()['Timeout']);
    });

    it('is configured with exactly the variables the ingest schema reads in AWS, and they validate', () => {
      const env = envOf(ingestFn());
      // No ANTHROPIC_API_KEY, no LOCAL_*; part size and upload concurrency as the memory check counted them.
      const configured = [
        'ARCHIVE_BUCKET',
        'INDEX_TABLE',
        'INGEST_QUEUE_URL',
        'DEAD_LETTER_QUEUE_URL',
        'ANTHROPIC_BASE_URL',
        'ANTHROPIC_API_KEY_SECRET_ARN',
        'LEASE_SECONDS',
        'MAX_RECEIVE_COUNT',
        'COMPLIANCE_REQUESTS_PER_MINUTE',
        'FILES_API_REQUESTS_PER_MINUTE',
        'POLLER_BUDGET_SHARE',
        'PART_SIZE_MIB',
        'UPLOAD_CONCURRENCY',
      ];
      expect(Object.keys(env).sort()).toEqual([...configured, ...RUNTIME_ENV].sort());
      const parsed = IngestConfigSchema.safeParse(asDeployed(env));
      expect(parsed.error?.issues ?? []).toEqual([]);
      expect(WorkerBudgetConfigSchema.parse(asDeployed(env))).toMatchObject({
        COMPLIANCE_REQUESTS_PER_MINUTE: 600,
        FILES_API_REQUESTS_PER_MINUTE: 100,
        POLLER_BUDGET_SHARE: 0.3,
      });
    });

    it("is told the queue's maxReceiveCount, from the same configuration as the queue's redrive policy", () => {
      const redrive = (template: typeof t) =>
        z
          .object({ maxReceiveCount: z.number() })
          .parse(onlyResource(template, 'AWS::SQS::Queue', 'IngestQueue').Properties['RedrivePolicy']);
      const customFn = onlyResource(custom.serviceTemplate, 'AWS::Lambda::Function', 'IngestFunction').Properties;
      expect(envOf(ingestFn())['MAX_RECEIVE_COUNT']).toBe(String(redrive(defaults.dataTemplate).maxReceiveCount));
      expect(envOf(customFn)['MAX_RECEIVE_COUNT']).toBe(String(redrive(custom.dataTemplate).maxReceiveCount));
    });

    it('uploads with the part size and concurrency the memory check counted (deployment-config.ts)', () => {
      expect(envOf(ingestFn())).toMatchObject({ PART_SIZE_MIB: '8', UPLOAD_CONCURRENCY: '4' });
      const customFn = onlyResource(custom.serviceTemplate, 'AWS::Lambda::Function', 'IngestFunction').Properties;
      expect(envOf(customFn)).toMatchObject({ PART_SIZE_MIB: '16', UPLOAD_CONCURRENCY: '6' });
      expect(customFn['MemorySize']).toBe(2048);
    });

    it('holds its lease for the function timeout plus a minute', () => {
      expect(envOf(ingestFn())['LEASE_SECONDS']).toBe(String(ingestFn()['Timeout'] + 60));
    });

    it('calls the configured upstream base URL', () => {
      expect(envOf(ingestFn())['ANTHROPIC_BASE_URL']).toBe('https://api.anthropic.com');
      const customFn = onlyResource(custom.serviceTemplate, 'AWS::Lambda::Function', 'IngestFunction').Properties;
      expect(envOf(customFn)['ANTHROPIC_BASE_URL']).toBe('https://upstream.example.com');
    });

    it('names the secret by ARN and never carries the key itself in its environment', () => {
      const env = envOf(ingestFn());
      const secretId = logicalIdOf(defaults.data.upstreamApiKey);
      expect(env['ANTHROPIC_API_KEY_SECRET_ARN']).toEqual({
        'Fn::GetStackOutput': expect.objectContaining({ OutputName: expect.stringContaining(secretId) }),
      });
      for (const template of [t, defaults.dataTemplate]) {
        expect(JSON.stringify(template.toJSON())).not.toMatch(/sk-ant-|"SecretString"/);
      }
    });
  });

  describe('lookup function', () => {
    it('is configured with exactly the variables the lookup schema reads in AWS, and they validate', () => {
      const env = envOf(lookupFn());
      expect(Object.keys(env).sort()).toEqual(
        [
          'ARCHIVE_BUCKET',
          'INDEX_TABLE',
          'PRESIGN_TTL_SECONDS',
          'HOLD_WORK_QUEUE_URL',
          'HOLD_RELEASE_DELAY_SECONDS',
          'EXPORTS_BUCKET',
          'EXPORT_QUEUE_URL',
          ...RUNTIME_ENV,
        ].sort(),
      );
      expect(env).toHaveProperty('PRESIGN_TTL_SECONDS', '300');
      // A release sweep waits out the ingest function's timeout before it starts (shared/holds/matters.ts).
      expect(Number(env['HOLD_RELEASE_DELAY_SECONDS'])).toBeGreaterThanOrEqual(Math.min(900, ingestFn()['Timeout']));
      const parsed = LookupConfigSchema.safeParse(asDeployed(env));
      expect(parsed.error?.issues ?? []).toEqual([]);
    });
  });

  describe('export worker', () => {
    const exportFn = () => onlyResource(t, 'AWS::Lambda::Function', 'ExportFunction').Properties;
    const exportFnId = () => logicalIdOf(defaults.service.exportWorker.function);

    it('is configured with exactly the variables the export schema needs in AWS, and they validate', () => {
      const env = envOf(exportFn());
      expect(Object.keys(env).sort()).toEqual(
        [
          'INDEX_TABLE',
          'EXPORTS_BUCKET',
          'EXPORT_QUEUE_URL',
          'MAX_RECEIVE_COUNT',
          'SOURCE_ORGANIZATION',
          ...RUNTIME_ENV,
        ].sort(),
      );
      expect(env).toMatchObject({ MAX_RECEIVE_COUNT: '5', SOURCE_ORGANIZATION: 'Claude Enterprise organization' });
      expect(
        envOf(onlyResource(custom.serviceTemplate, 'AWS::Lambda::Function', 'ExportFunction').Properties),
      ).toMatchObject({
        SOURCE_ORGANIZATION: 'Example Corp (org_01Example)',
      });
      const parsed = ExportConfigSchema.safeParse(asDeployed(env));
      expect(parsed.error?.issues ?? []).toEqual([]);
    });

    it(
      'runs one export message per invocation from the export queue, ' +
        'reports batch item failures, never retries asynchronously',
      () => {
        const mappings = Object.values(resourcesOf(t, 'AWS::Lambda::EventSourceMapping')).filter(
          (m) => m.Properties['FunctionName']?.Ref === exportFnId(),
        );
        expect(mappings).toHaveLength(1);
        expect(mappings[0]?.Properties).toMatchObject({
          BatchSize: 1,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        });
        expect(JSON.stringify(mappings[0]?.Properties['EventSourceArn'])).toContain('ExportQueue');
        const invokeConfigs = Object.values(resourcesOf(t, 'AWS::Lambda::EventInvokeConfig')).filter(
          (c) => c.Properties['FunctionName']?.Ref === exportFnId(),
        );
        expect(invokeConfigs.map((c) => c.Properties['MaximumRetryAttempts'])).toEqual([0]);
        // 15 minutes; the export queue's visibility timeout is six times that (a run is never raced).
        expect(exportFn()['Timeout']).toBe(900);
        const queue = resourcesOf(defaults.dataTemplate, 'AWS::SQS::Queue')[
          logicalIdOf(defaults.data.exportQueues.queue)
        ];
        expect(queue?.Properties['VisibilityTimeout']).toBe(6 * 900);
      },
    );

    it("names both V8 heap sizes in NODE_OPTIONS, so Lambda's runtime adds neither (4 MiB semi-spaces)", () => {
      // The runtime sizes both spaces only when NODE_OPTIONS names neither (infra/sizing.ts): one alone
      // would leave the other at V8's default. The flags are the ones bench:export runs the export with.
      expect(exportFn()['MemorySize']).toBe(1024);
      expect(envOf(exportFn())['NODE_OPTIONS']).toBe(
        '--enable-source-maps --max-semi-space-size=4 --max-old-space-size=922',
      );
      expect(exportV8Flags(1024)).toEqual(['--max-semi-space-size=4', '--max-old-space-size=922']);
      expect(envOf(ingestFn())['NODE_OPTIONS']).toBe('--enable-source-maps');
    });

    it('has NODE_OPTIONS that this Node accepts from the environment and applies: a 922 + 3 × 4 MiB heap', () => {
      // Node refuses V8 flags it does not allow in NODE_OPTIONS; V8's heap limit is the old space plus
      // the young generation, three semi-spaces (https://nodejs.org/api/cli.html#--max-semi-space-sizesize-in-mib).
      const run = spawnSync(
        process.execPath,
        ['-e', 'process.stdout.write(String(require("v8").getHeapStatistics().heap_size_limit))'],
        { env: { ...process.env, NODE_OPTIONS: String(envOf(exportFn())['NODE_OPTIONS']) }, encoding: 'utf8' },
      );
      expect(run.stderr).toBe('');
      expect(Number(run.stdout) / 2 ** 20).toBe(922 + 3 * 4);
    });
  });

  describe('every function', () => {
    it('carries the Powertools environment: its service name, the metrics namespace, the log level', () => {
      expect(envOf(ingestFn())).toMatchObject({
        POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.ingest,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      expect(envOf(lookupFn())).toMatchObject({
        POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.lookup,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      expect(envOf(webhookFn())).toMatchObject({
        POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.webhook,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
    });

    it('logs to its own log group with the configured retention (365 days by default)', () => {
      for (const [template, days] of [
        [t, 365],
        [custom.serviceTemplate, 731],
      ] as const) {
        const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));
        const groups = resourcesOf(template, 'AWS::Logs::LogGroup');
        // ingest, lookup, webhook, export, the scheduled fixity audit and one function per discovery poller
        expect(functions).toHaveLength(5 + POLLER_SOURCES.length);
        for (const fn of functions) {
          const groupId: string = fn.Properties['LoggingConfig'].LogGroup.Ref;
          expect(groups[groupId]?.Properties['RetentionInDays']).toBe(days);
        }
      }
    });
  });

  describe('lookup API', () => {
    // The webhook's API is a separate RestApi in the same stack (webhook.suite.ts).
    const lookupApiId = () => logicalIdOf(defaults.service.lookupApi.api);
    const pathOf = (id: string): string => {
      const r = resourcesOf(t, 'AWS::ApiGateway::Resource')[id];
      if (!r) return '';
      const parent = r.Properties['ParentId'];
      return `${parent.Ref ? pathOf(parent.Ref) : ''}/${r.Properties['PathPart']}`;
    };
    const methods = () =>
      Object.values(resourcesOf(t, 'AWS::ApiGateway::Method')).filter(
        (m) => m.Properties['RestApiId']?.Ref === lookupApiId(),
      );

    it(
      'has exactly one method per lookup route, with the route\u2019s ' + 'verb, all proxied to the lookup function',
      () => {
        expect(methods()).toHaveLength(LOOKUP_ROUTES.length);
        expect(
          methods()
            .map((m) => `${m.Properties['HttpMethod']} ${pathOf(m.Properties['ResourceId'].Ref)}`)
            .sort(),
        ).toEqual(LOOKUP_ROUTES.map((r) => `${r.method} ${r.resource}`).sort());
        for (const m of methods()) {
          expect(m.Properties['Integration']).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
          expect(JSON.stringify(m.Properties['Integration'].Uri)).toContain(
            logicalIdOf(defaults.service.lookup.function),
          );
        }
      },
    );

    it('requires AWS_IAM authorization on every method', () => {
      for (const m of methods()) expect(m.Properties['AuthorizationType']).toBe('AWS_IAM');
    });

    it('validates request parameters on every method', () => {
      const validators = resourcesOf(t, 'AWS::ApiGateway::RequestValidator');
      for (const m of methods()) {
        const validator = validators[m.Properties['RequestValidatorId'].Ref];
        expect(validator?.Properties['ValidateRequestParameters']).toBe(true);
        const required = Object.entries(m.Properties['RequestParameters'] ?? {}).filter(([, req]) => req === true);
        // Every path parameter is required (a route without one, like /search/files, requires none).
        for (const [name] of required) expect(name).toMatch(/^method\.request\.path\./);
        const pathParams = Object.keys(m.Properties['RequestParameters'] ?? {}).filter((n) =>
          n.startsWith('method.request.path.'),
        );
        expect(required.map(([n]) => n).sort()).toEqual(pathParams.sort());
      }
    });

    it('throttles, access-logs and traces the stage, and never logs request or response data', () => {
      const stage = onlyResource(t, 'AWS::ApiGateway::Stage', 'LookupApiDeploymentStage').Properties;
      expect(stage['StageName']).toBe(LOOKUP_STAGE);
      expect(stage['TracingEnabled']).toBe(true);
      expect(stage['AccessLogSetting'].DestinationArn).toBeDefined();
      expect(JSON.parse(stage['AccessLogSetting'].Format)).toMatchObject({
        caller: '$context.identity.caller',
        user: '$context.identity.user',
      });
      expect(stage['MethodSettings']).toEqual([
        expect.objectContaining({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ]);
    });

    it('has its execution log group, and the webhook API’s, created by the stack with the configured retention', () => {
      // API Gateway would otherwise create API-Gateway-Execution-Logs_<api id>/<stage> itself, without a retention.
      for (const [app, days] of [
        [defaults, 365],
        [custom, 731],
      ] as const) {
        const template = app.serviceTemplate;
        for (const api of [app.service.lookupApi, app.service.webhook.api]) {
          const groupId = logicalIdOf(api.executionLogGroup);
          const group = resourcesOf(template, 'AWS::Logs::LogGroup')[groupId];
          expect(group?.Properties).toMatchObject({
            LogGroupName: {
              'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: logicalIdOf(api.api) }, '/v1']],
            },
            RetentionInDays: days,
          });
          expect(group?.DeletionPolicy).toBe('Retain');
          const stage = resourcesOf(template, 'AWS::ApiGateway::Stage')[logicalIdOf(api.api.deploymentStage)];
          expect(stage?.Properties['StageName']).toBe('v1');
          expect(stage?.DependsOn).toContain(groupId);
        }
      }
    });

    it('lets the lookup function be invoked only by these methods of this stage (no test-invoke)', () => {
      const permissions = Object.values(resourcesOf(t, 'AWS::Lambda::Permission')).filter((p) =>
        JSON.stringify(p.Properties['FunctionName']).includes(logicalIdOf(defaults.service.lookup.function)),
      );
      const stageRef = JSON.stringify({ Ref: logicalIdOf(defaults.service.lookupApi.api.deploymentStage) });
      const routes = permissions.map((p) => {
        expect(p.Properties['Principal']).toBe('apigateway.amazonaws.com');
        const arn = JSON.stringify(p.Properties['SourceArn']);
        const route = new RegExp(`${escapeRegExp(stageRef)},"/([A-Z]+)(/[^"]*)"`).exec(arn);
        expect(route, arn).not.toBeNull();
        return `${route?.[1]} ${route?.[2]}`;
      });
      expect(routes.sort()).toEqual(
        LOOKUP_ROUTES.map((r) => `${r.method} ${r.resource.replace(/\{[^}]+\}/g, '*')}`).sort(),
      );
    });
  });

  describe('role policies', () => {
    it.each([
      ['auditor', 'LookupApiAuditorPolicy', 'AuditorPolicyArn', 'auditor-policy-arn'],
      ['legalAdmin', 'LookupApiLegalAdminPolicy', 'LegalAdminPolicyArn', 'legal-admin-policy-arn'],
      ['operator', 'LookupApiOperatorPolicy', 'OperatorPolicyArn', 'operator-policy-arn'],
    ] as const)(
      '%s: a managed policy allowing execute-api:Invoke on exactly the routes of its role on the stage, exported',
      (role, id, output, exportName) => {
        const policy = onlyResource(t, 'AWS::IAM::ManagedPolicy', id);
        const statements = statementsOf(policy.Properties['PolicyDocument']).filter((s) =>
          asArray(s.Action).includes('execute-api:Invoke'),
        );
        expect(statements).toHaveLength(1);
        expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke' });
        const suffixes = asArray(statements[0]?.['Resource'] ?? []).map((arn) => {
          const parts = JSON.stringify(arn);
          return parts.slice(parts.lastIndexOf('"/') + 1, parts.lastIndexOf('"'));
        });
        const expected = LOOKUP_ROUTES.filter((r) => (r.roles as readonly LookupRole[]).includes(role)).map(
          (r) => `/${LOOKUP_STAGE}/${r.method}${r.resource.replace(/\{[^}]+\}/g, '*')}`,
        );
        expect(expected.length).toBeGreaterThan(0);
        expect(suffixes.sort()).toEqual(expected.sort());
        const logicalId = Object.keys(resourcesOf(t, 'AWS::IAM::ManagedPolicy')).find((k) => k.startsWith(id));
        t.hasOutput(output, {
          Value: { Ref: logicalId },
          Export: { Name: `claude-file-archiver-dev-${exportName}` },
        });
      },
    );
  });

  describe('alarms', () => {
    const alarms = () => resourcesOf(t, 'AWS::CloudWatch::Alarm');
    const topicRef = () => ({ Ref: logicalIdOf(defaults.service.monitoring.topic) });
    const alarm = (name: string) => {
      const found = Object.values(alarms()).find(
        (a) => a.Properties['AlarmName'] === `claude-file-archiver-dev-${name}`,
      );
      if (!found) throw new Error(`no alarm ${name}`);
      return found.Properties;
    };

    it('all notify the alarm topic on alarm and on recovery', () => {
      // 8 for ingest and lookup; one for capture latency; 3 for the webhook; per poller a stalled and a
      // rejected-cursor alarm; one for the budget; 2 for exports (worker errors, dead letters); one for
      // scheduled fixity failures.
      expect(Object.keys(alarms()).length).toBe(8 + 1 + 3 + POLLER_SOURCES.length * 2 + 1 + 2 + 1);
      for (const a of Object.values(alarms())) {
        expect(a.Properties['AlarmActions']).toEqual([topicRef()]);
        expect(a.Properties['OKActions']).toEqual([topicRef()]);
        // No data means nothing happened, except for a poller, where it means no run completed.
        expect(a.Properties['TreatMissingData']).toBe(
          /PollerStalled$/.test(String(a.Properties['AlarmName'])) ? 'breaching' : 'notBreaching',
        );
      }
    });

    it('fire on any message visible in the dead-letter queue', () => {
      expect(alarm('DeadLetterQueueNotEmpty')).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
      });
      expect(JSON.stringify(alarm('DeadLetterQueueNotEmpty')['Dimensions'])).toContain(
        logicalIdOf(defaults.data.queues.deadLetterQueue),
      );
    });

    it('fire when the oldest ingest job is older than the configured age (60 minutes by default)', () => {
      expect(alarm('IngestBacklogStale')).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 3600,
      });
      expect(JSON.stringify(alarm('IngestBacklogStale')['Dimensions'])).toContain(
        logicalIdOf(defaults.data.queues.queue),
      );
    });

    it('fire on any error or throttle of either function', () => {
      for (const [name, metric, fn] of [
        ['IngestFunctionErrors', 'Errors', defaults.service.ingest],
        ['IngestFunctionThrottles', 'Throttles', defaults.service.ingest],
        ['LookupFunctionErrors', 'Errors', defaults.service.lookup],
        ['LookupFunctionThrottles', 'Throttles', defaults.service.lookup],
      ] as const) {
        expect(alarm(name)).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Statistic: 'Sum',
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalIdOf(fn.function) } }],
        });
      }
    });

    it('fire on any integrity failure or upstream authentication failure, as Powertools emits them', () => {
      for (const [name, metric] of [
        ['IntegrityFailures', METRIC.integrityFailures],
        ['UpstreamAuthFailures', METRIC.upstreamAuthFailures],
      ] as const) {
        expect(alarm(name)).toMatchObject({
          Namespace: METRICS_NAMESPACE,
          MetricName: metric,
          Dimensions: [{ Name: 'service', Value: SERVICE_NAMES.ingest }],
          Statistic: 'Sum',
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      }
    });

    it('fire on any error of the webhook function', () => {
      expect(alarm('WebhookFunctionErrors')).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalIdOf(defaults.service.webhook.function.function) } }],
      });
    });

    it('fire on any 5xx answered by the webhook stage (not the lookup API’s)', () => {
      expect(alarm('WebhookApi5xx')).toMatchObject({
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [
          { Name: 'ApiName', Value: 'claude-file-archiver-dev-webhook' },
          { Name: 'Stage', Value: { Ref: logicalIdOf(defaults.service.webhook.api.api.deploymentStage) } },
        ],
      });
    });

    it('fire on more than 10 webhook 401s in 5 minutes, API Gateway’s own (missing headers) included', () => {
      expect(alarm('WebhookSignatureRefusals')).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.webhookUnauthorizedAnswers,
        Statistic: 'Sum',
        Period: 300,
        Threshold: 10,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      // The metric counts the 401s in the stage's access log, which records every answer: the
      // function's and the gateway's (a request without the webhook headers never reaches the function).
      const filters = Object.values(resourcesOf(t, 'AWS::Logs::MetricFilter'));
      expect(filters).toHaveLength(1);
      expect(filters[0]?.Properties).toEqual({
        LogGroupName: { Ref: logicalIdOf(defaults.service.webhook.api.accessLogGroup) },
        FilterPattern: '{ $.status = "401" }',
        MetricTransformations: [
          {
            MetricNamespace: METRICS_NAMESPACE,
            MetricName: METRIC.webhookUnauthorizedAnswers,
            MetricValue: '1',
            DefaultValue: 0,
          },
        ],
      });
      const stage = onlyResource(t, 'AWS::ApiGateway::Stage', 'WebhookApiDeploymentStage').Properties;
      expect(JSON.stringify(stage['AccessLogSetting'])).toContain('\\"status\\":\\"$context.status\\"');
      // The gateway's answer to missing headers is a 401, so the filter counts it.
      t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'BAD_REQUEST_PARAMETERS',
        StatusCode: '401',
        RestApiId: { Ref: logicalIdOf(defaults.service.webhook.api.api) },
      });
    });

    it('each have a runbook section in docs/deployment.md named after the alarm', () => {
      const guide = readFileSync(new URL('../../docs/deployment.md', import.meta.url), 'utf8');
      const headings = guide
        .split('\n')
        .filter((l) => l.startsWith('### '))
        .flatMap((l) => l.slice(4).split(/,\s*/));
      for (const a of Object.values(alarms())) {
        const id = String(a.Properties['AlarmName']).replace('claude-file-archiver-dev-', '');
        expect(headings, id).toContain(id);
        expect(String(a.Properties['AlarmDescription']), id).toContain(`docs/deployment.md#`);
      }
    });

    it('go to an encrypted, TLS-only topic, e-mailed when an address is configured', () => {
      const topic = onlyResource(t, 'AWS::SNS::Topic', 'MonitoringAlarmTopic').Properties;
      expect(topic['KmsMasterKeyId']).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^MonitoringAlarmTopicKey/), 'Arn'],
      });
      const policy = onlyResource(t, 'AWS::SNS::TopicPolicy', 'MonitoringAlarmTopicPolicy').Properties;
      expect(statementsOf(policy['PolicyDocument'])).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
      expect(resourcesOf(t, 'AWS::SNS::Subscription')).toEqual({});
      custom.serviceTemplate.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
      });
    });

    it(
      'can be published by this stack’s alarms only: the topic policy ' + 'and the topic key admit CloudWatch for them',
      () => {
        // What each statement allows is proven with the policy simulator in alarm-delivery.test.ts.
        const fromThisStacksAlarms = {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':cloudwatch:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':alarm:claude-file-archiver-dev-*',
                ],
              ],
            },
          },
        };
        const key = onlyResource(t, 'AWS::KMS::Key', 'MonitoringAlarmTopicKey').Properties;
        expect(statementsOf(key['KeyPolicy'])).toContainEqual({
          Sid: 'AllowThisStacksAlarmsToUseTheKey',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
          Condition: fromThisStacksAlarms,
        });
        const policy = onlyResource(t, 'AWS::SNS::TopicPolicy', 'MonitoringAlarmTopicPolicy').Properties;
        expect(statementsOf(policy['PolicyDocument'])).toContainEqual({
          Sid: 'AllowThisStacksAlarmsToPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: { Ref: logicalIdOf(defaults.service.monitoring.topic) },
          Condition: fromThisStacksAlarms,
        });
        // Every alarm of the app carries the prefix the condition matches.
        for (const a of Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')))
          expect(String(a.Properties['AlarmName'])).toMatch(/^claude-file-archiver-dev-/);
      },
    );
  });

  describe('dashboard', () => {
    it('charts files archived, bytes, integrity failures, upstream latency and 429s from the ingest service', () => {
      const dashboard = onlyResource(t, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard').Properties;
      const body = JSON.stringify(dashboard['DashboardBody']);
      for (const metric of [
        METRIC.filesArchived,
        METRIC.bytesArchived,
        METRIC.integrityFailures,
        METRIC.upstreamLatency,
        METRIC.upstreamThrottled,
      ]) {
        expect(body).toContain(
          `[\\"${METRICS_NAMESPACE}\\",\\"${metric}\\",\\"service\\",\\"${SERVICE_NAMES.ingest}\\"`,
        );
      }
    });
  });

  describe('webhook dashboard', () => {
    const body = (template = t) =>
      JSON.stringify(
        onlyResource(template, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard').Properties['DashboardBody'],
      );

    it('charts webhook requests by every outcome the function emits, and the jobs it enqueued', () => {
      for (const outcome of WEBHOOK_OUTCOMES) {
        expect(body()).toContain(
          `[\\"${METRICS_NAMESPACE}\\",\\"${METRIC.webhookRequests}\\",\\"outcome\\",\\"${outcome}\\",\\"service` +
            `\\",\\"${SERVICE_NAMES.webhook}\\"`,
        );
      }
      expect(body()).toContain(
        `[\\"${METRICS_NAMESPACE}\\",\\"${METRIC.webhookJobsEnqueued}\\",\\"service\\",\\"${SERVICE_NAMES.webhook}\\"`,
      );
    });

    it('charts the webhook stage’s requests, 4xx, 5xx and latency', () => {
      for (const metric of ['Count', '4XXError', '5XXError', 'Latency']) {
        expect(body()).toContain(
          `[\\"AWS/ApiGateway\\",\\"${metric}\\",\\"ApiName\\",\\"claude-file-archiver-dev-webhook\\",\\"Stage\\"`,
        );
      }
    });

    it('charts what the created web ACL refused, per rule, and has no WAF chart with an existing ACL', () => {
      for (const rule of ['rate-limit-per-ip', 'body-too-large']) {
        expect(body()).toContain(
          `\\"Rule\\",\\"claude-file-archiver-dev-webhook-${rule}\\",\\"WebACL\\",\\"claude-file-archiver-dev-web` +
            `hook\\"`,
        );
      }
      expect(body(custom.serviceTemplate)).not.toContain('AWS/WAFV2');
    });
  });

  describe('outputs', () => {
    it('names the stacks and exposes the outputs the smoke test reads (smoke/smoke-target.ts)', () => {
      for (const synth of [defaults, custom]) {
        const names = stackNamesOf(synth.config.environment);
        expect([synth.data.stackName, synth.service.stackName]).toEqual([names.data, names.service]);
      }
      expect(Object.keys(defaults.dataTemplate.findOutputs(SMOKE_STACK_OUTPUTS.data))).toEqual([
        SMOKE_STACK_OUTPUTS.data,
      ]);
      expect(Object.keys(t.findOutputs(SMOKE_STACK_OUTPUTS.service))).toEqual([SMOKE_STACK_OUTPUTS.service]);
    });

    it('exposes every output the archiver CLI reads (shared/contracts/stack-outputs.ts)', () => {
      for (const synth of [defaults, custom]) {
        const data = Object.keys(synth.dataTemplate.toJSON()['Outputs'] ?? {});
        const service = Object.keys(synth.serviceTemplate.toJSON()['Outputs'] ?? {});
        expect(data).toEqual(expect.arrayContaining(Object.values(DATA_STACK_OUTPUTS)));
        expect(service).toEqual(expect.arrayContaining(Object.values(SERVICE_STACK_OUTPUTS)));
      }
    });

    it("outputs the deployment's own upstream base URL, where the CLI may send the Compliance key", () => {
      const value = (synth: typeof defaults) =>
        synth.serviceTemplate.toJSON()['Outputs'][SERVICE_STACK_OUTPUTS.upstreamBaseUrl]['Value'];
      expect(value(defaults)).toBe('https://api.anthropic.com');
      expect(value(custom)).toBe('https://upstream.example.com');
    });
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
