import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DiscoveryConfigSchema } from '../../shared/contracts/lambda-environment.js';
import { DISCOVERY_SOURCES, POLLER_SOURCES } from '../../shared/contracts/discovery-sources.js';
import {
  DISCOVERY_METRIC,
  DISCOVERY_SERVICE_NAMES,
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_NAMES,
} from '../../shared/contracts/metric-names.js';
import { logicalIdOf, onlyResource, resourcesOf, type ArchiverSynths } from './archiver-fixture.js';

const SOURCES = POLLER_SOURCES;

/** The discovery pollers: functions, schedules, configuration, alarms and dashboard. */
export function describeDiscovery({ defaults, custom }: ArchiverSynths): void {
  const t = defaults.serviceTemplate;
  const fnOf = (app: typeof defaults, source: (typeof SOURCES)[number]) =>
    resourcesOf(app.serviceTemplate, 'AWS::Lambda::Function')[
      logicalIdOf(app.service.discovery.functions[source].function)
    ]?.Properties ?? {};
  const envOf = (fn: Record<string, unknown>): Record<string, unknown> =>
    z.object({ Variables: z.record(z.string(), z.unknown()) }).parse(fn['Environment']).Variables;
  const alarm = (name: string) => {
    const found = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties['AlarmName'] === `claude-file-archiver-dev-${name}`,
    );
    if (!found) throw new Error(`no alarm ${name}`);
    return found.Properties;
  };

  describe('discovery pollers', () => {
    it('run for at most 5 minutes with 512 MB, and hold their lease a minute longer than that', () => {
      for (const source of SOURCES) {
        const fn = fnOf(defaults, source);
        expect(fn['Timeout'], source).toBe(300);
        expect(fn['MemorySize'], source).toBe(512);
        expect(envOf(fn)['POLLER_LEASE_SECONDS'], source).toBe('360');
      }
    });

    it('are configured with variables the discovery schema accepts, with the budget from configuration', () => {
      for (const source of SOURCES) {
        const env = envOf(fnOf(defaults, source));
        expect(env['POWERTOOLS_SERVICE_NAME']).toBe(DISCOVERY_SERVICE_NAMES[source]);
        const deployed = Object.fromEntries(
          Object.entries(env).map(([k, v]) => [
            k,
            typeof v === 'string'
              ? v
              : k === 'INGEST_QUEUE_URL'
                ? 'https://sqs.eu-west-1.amazonaws.com/1/q'
                : 'resolved',
          ]),
        );
        const parsed = DiscoveryConfigSchema.safeParse(deployed);
        expect(parsed.error?.issues ?? []).toEqual([]);
        expect(parsed.data).toMatchObject({
          COMPLIANCE_REQUESTS_PER_MINUTE: 600,
          FILES_API_REQUESTS_PER_MINUTE: 100,
          POLLER_BUDGET_SHARE: 0.3,
        });
        expect(Object.keys(env).filter((k) => k.startsWith('LOCAL_') || k === 'ANTHROPIC_API_KEY')).toEqual([]);
      }
      const customEnv = envOf(fnOf(custom, 'chats'));
      expect(customEnv).toMatchObject({
        COMPLIANCE_REQUESTS_PER_MINUTE: '1200',
        POLLER_BUDGET_SHARE: '0.2',
        ANTHROPIC_BASE_URL: 'https://upstream.example.com',
      });
    });

    it("are invoked without Lambda's own asynchronous retries (the rule's retry policy does not cover them)", () => {
      const configs = Object.values(resourcesOf(t, 'AWS::Lambda::EventInvokeConfig'));
      for (const source of SOURCES) {
        const id = logicalIdOf(defaults.service.discovery.functions[source].function);
        const config = configs.filter(
          (c) => JSON.stringify(c.Properties['FunctionName']) === JSON.stringify({ Ref: id }),
        );
        expect(config, source).toHaveLength(1);
        expect(config[0]?.Properties, source).toMatchObject({ MaximumRetryAttempts: 0, Qualifier: '$LATEST' });
      }
    });

    it('are scheduled by configuration (1, 1, 15 and 1 minutes by default), without retries of a missed run', () => {
      const rules = (app: typeof defaults) => Object.values(resourcesOf(app.serviceTemplate, 'AWS::Events::Rule'));
      const scheduleOf = (app: typeof defaults, source: (typeof SOURCES)[number]) => {
        const id = logicalIdOf(app.service.discovery.functions[source].function);
        const rule = rules(app).find((r) => JSON.stringify(r.Properties['Targets']).includes(id));
        expect(rule?.Properties['Targets']).toEqual([
          expect.objectContaining({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 } }),
        ]);
        return rule?.Properties['ScheduleExpression'];
      };
      // One rule per poller (the scheduled fixity audit has its own: fixity.suite.ts).
      const pollerIds = SOURCES.map((s) => logicalIdOf(defaults.service.discovery.functions[s].function));
      expect(
        rules(defaults).filter((r) => pollerIds.some((id) => JSON.stringify(r.Properties['Targets']).includes(id))),
      ).toHaveLength(4);
      expect(SOURCES.map((s) => scheduleOf(defaults, s))).toEqual([
        'rate(1 minute)',
        'rate(1 minute)',
        'rate(15 minutes)',
        'rate(1 minute)',
      ]);
      expect(SOURCES.map((s) => scheduleOf(custom, s))).toEqual([
        'rate(2 minutes)',
        'rate(1 minute)',
        'rate(1 hour)',
        'rate(30 minutes)',
      ]);
    });

    it('poll repeatedly within an invocation as the registry says, until shortly before the next scheduled one', () => {
      const polling = (app: typeof defaults) =>
        SOURCES.map((s) => {
          const env = envOf(fnOf(app, s));
          return [s, env['POLL_EVERY_SECONDS'], env['POLL_WINDOW_SECONDS']];
        });
      // Chats every 15 s, activities every 30 s and projects' change polls every 20 s for 55 s of each
      // 1-minute invocation; the Files API walks once per invocation.
      expect(polling(defaults)).toEqual([
        ['chats', '15', '55'],
        ['activities', '30', '55'],
        ['files_api', '0', '0'],
        ['projects', '20', '55'],
      ]);
      // A longer schedule keeps its invocation polling longer (custom: chats every 2 minutes).
      expect(polling(custom)[0]).toEqual(['chats', '15', '115']);
      for (const s of SOURCES)
        expect(envOf(fnOf(defaults, s))['POLL_EVERY_SECONDS']).toBe(String(DISCOVERY_SOURCES[s].pollEverySeconds ?? 0));
    });

    it('may be invoked by their own schedule only', () => {
      for (const source of SOURCES) {
        const fnId = logicalIdOf(defaults.service.discovery.functions[source].function);
        const permissions = Object.values(resourcesOf(t, 'AWS::Lambda::Permission')).filter((p) =>
          JSON.stringify(p.Properties['FunctionName']).includes(fnId),
        );
        expect(permissions).toEqual([
          expect.objectContaining({
            Properties: expect.objectContaining({
              Principal: 'events.amazonaws.com',
              SourceArn: { 'Fn::GetAtt': [expect.stringContaining('Schedule'), 'Arn'] },
            }),
          }),
        ]);
      }
    });
  });

  describe('discovery alarms', () => {
    it('fire when a poller completes no run for the configured time, counting no data as stalled', () => {
      for (const name of ['ChatPollerStalled', 'ActivityPollerStalled', 'FilesApiPollerStalled']) {
        expect(alarm(name)).toMatchObject({
          MetricName: DISCOVERY_METRIC.runsCompleted,
          Namespace: METRICS_NAMESPACE,
          Period: 1800,
          Statistic: 'Sum',
          ComparisonOperator: 'LessThanThreshold',
          Threshold: 1,
          TreatMissingData: 'breaching',
        });
      }
      expect(alarm('ChatPollerStalled')['Dimensions']).toEqual([
        { Name: 'service', Value: DISCOVERY_SERVICE_NAMES.chats },
      ]);
    });

    it('fire on any rejected cursor', () => {
      for (const [name, source] of [
        ['ChatPollerCursorRejected', 'chats'],
        ['ActivityPollerCursorRejected', 'activities'],
        ['FilesApiPollerCursorRejected', 'files_api'],
      ] as const) {
        expect(alarm(name)).toMatchObject({
          MetricName: DISCOVERY_METRIC.cursorRejected,
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 0,
          Dimensions: [{ Name: 'service', Value: DISCOVERY_SERVICE_NAMES[source] }],
        });
      }
    });

    it('fire when callers find no Compliance API budget for 15 minutes, whoever they are', () => {
      const a = alarm('BudgetExhausted');
      expect(a).toMatchObject({ EvaluationPeriods: 3, ComparisonOperator: 'GreaterThanThreshold', Threshold: 0 });
      const metrics = JSON.stringify(a['Metrics']);
      // Every caller of the shared budget: ingest, the pollers, and the webhook's chat fan-out.
      for (const service of ['archiver-ingest', 'archiver-webhook', ...Object.values(DISCOVERY_SERVICE_NAMES)])
        expect(metrics).toContain(`"Value":"${service}"`);
      expect(metrics).toContain(`"MetricName":"${DISCOVERY_METRIC.budgetExhausted}"`);
    });
  });

  describe('capture latency', () => {
    it('alarms when the p95 of CaptureLatency, as the ingest function emits it, is above 60 s for 15 minutes', () => {
      expect(alarm('CaptureLatencyHigh')).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.captureLatency,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAMES.ingest }],
        ExtendedStatistic: 'p95',
        Period: 900,
        EvaluationPeriods: 1,
        Threshold: 60_000,
        ComparisonOperator: 'GreaterThanThreshold',
        // No files archived means nothing to measure, not a slow capture.
        TreatMissingData: 'notBreaching',
      });
    });

    it('is charted on the dashboard at p50, p95 and p99', () => {
      const body = JSON.stringify(
        onlyResource(t, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard').Properties['DashboardBody'],
      );
      for (const stat of ['p50', 'p95', 'p99'])
        expect(body).toContain(
          `[\\"${METRICS_NAMESPACE}\\",\\"${METRIC.captureLatency}\\",\\"service\\",\\"${SERVICE_NAMES.ingest}\\"` +
            `,{\\"label\\":\\"${stat}\\",\\"period\\":900,\\"stat\\":\\"${stat}\\"}]`,
        );
    });
  });

  describe('dashboard', () => {
    it('charts pages, records, jobs enqueued and lag of each poller', () => {
      const body = JSON.stringify(
        onlyResource(t, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard').Properties['DashboardBody'],
      );
      for (const service of Object.values(DISCOVERY_SERVICE_NAMES)) {
        for (const metric of [
          DISCOVERY_METRIC.pages,
          DISCOVERY_METRIC.records,
          DISCOVERY_METRIC.jobsEnqueued,
          DISCOVERY_METRIC.lagSeconds,
        ]) {
          expect(body).toContain(`[\\"${METRICS_NAMESPACE}\\",\\"${metric}\\",\\"service\\",\\"${service}\\"`);
        }
      }
    });
  });
}
