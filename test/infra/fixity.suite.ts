import { describe, expect, it } from 'vitest';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAMES } from '../../shared/contracts/metric-names.js';
import { logicalIdOf, resourcesOf, type ArchiverSynths } from './archiver-fixture.js';

/** The scheduled fixity audit: its function, schedule, configuration, alarm and dashboard. */
export function describeFixityAudit({ defaults, custom }: ArchiverSynths): void {
  const t = defaults.serviceTemplate;
  const fnId = logicalIdOf(defaults.service.fixity.function.function);

  describe('scheduled fixity audit', () => {
    it('runs hourly by an EventBridge rule without the rule\u2019s or Lambda\u2019s asynchronous retries', () => {
      const rules = Object.values(resourcesOf(t, 'AWS::Events::Rule')).filter((r) =>
        JSON.stringify(r.Properties['Targets']).includes(fnId),
      );
      expect(rules).toHaveLength(1);
      expect(rules[0]?.Properties['ScheduleExpression']).toBe('rate(1 hour)');
      expect(rules[0]?.Properties['Targets']).toEqual([
        expect.objectContaining({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 } }),
      ]);
      const invoke = Object.values(resourcesOf(t, 'AWS::Lambda::EventInvokeConfig')).filter(
        (c) => JSON.stringify(c.Properties['FunctionName']) === JSON.stringify({ Ref: fnId }),
      );
      expect(invoke).toHaveLength(1);
      expect(invoke[0]?.Properties).toMatchObject({ MaximumRetryAttempts: 0 });
    });

    it('checks every copy once in 30 days and deep-checks 1% a day by default, within Lambda\u2019s 15 minutes', () => {
      const fn = resourcesOf(t, 'AWS::Lambda::Function')[fnId]?.Properties ?? {};
      expect(fn['Timeout']).toBe(900);
      expect(fn['Environment']).toMatchObject({
        Variables: expect.objectContaining({
          FIXITY_ROTATION_DAYS: '30',
          FIXITY_DEEP_SAMPLE_PERCENT: '1',
          POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.fixity,
        }),
      });
    });

    it('takes the rotation and the deep sample from the deployment keys (archiver:fixityRotationDays, …)', () => {
      const customFn = logicalIdOf(custom.service.fixity.function.function);
      const fn = resourcesOf(custom.serviceTemplate, 'AWS::Lambda::Function')[customFn]?.Properties ?? {};
      expect(fn['Environment']).toMatchObject({
        Variables: expect.objectContaining({ FIXITY_ROTATION_DAYS: '7', FIXITY_DEEP_SAMPLE_PERCENT: '0.5' }),
      });
    });

    it('alarms on any FixityFailures of the function in an hour, and shows it on the dashboard', () => {
      const alarm = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).find(
        (a) => a.Properties['AlarmName'] === 'claude-file-archiver-dev-FixityFailures',
      );
      expect(alarm?.Properties).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.fixityFailures,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAMES.fixity }],
        Statistic: 'Sum',
        Period: 3600,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
      const body = JSON.stringify(Object.values(resourcesOf(t, 'AWS::CloudWatch::Dashboard'))[0]?.Properties);
      expect(body).toContain(METRIC.fixityFailures);
    });
  });
}
