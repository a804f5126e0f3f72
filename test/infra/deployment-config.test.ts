import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { addArchiverStacks } from '../../infra/archiver-app.js';
import { parseDeploymentConfig } from '../../infra/deployment-config.js';
import { ConfigurationError } from '../../shared/platform/errors.js';

/** The error message `cdk synth` would print for this context, or undefined when it is valid. */
function synthError(context: Record<string, unknown>): string | undefined {
  try {
    parseDeploymentConfig(context);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigurationError);
    return err instanceof Error ? err.message : String(err);
  }
}

describe('deployment configuration', () => {
  it('has a default for every key, so an offline synth needs no options', () => {
    expect(parseDeploymentConfig({})).toEqual({
      environment: 'dev',
      retentionMode: 'GOVERNANCE',
      retentionDays: 2557,
      upstreamBaseUrl: 'https://api.anthropic.com',
      maxConcurrency: 5,
      ingestMemoryMb: 1024,
      batchSize: 5,
      partSizeMib: 8,
      uploadConcurrency: 4,
      batchWindowSeconds: 5,
      maxReceiveCount: 5,
      archiveStorageClass: 'GLACIER_IR',
      oldestMessageAlarmMinutes: 60,
      logRetentionDays: 365,
      logLevel: 'INFO',
      presignTtlSeconds: 300,
      exportExpireDays: 30,
      sourceOrganization: 'Claude Enterprise organization',
      apiRateLimit: 20,
      apiBurstLimit: 40,
      webhookRateLimit: 10,
      webhookBurstLimit: 20,
      webhookWebAcl: 'create',
      webhookIpRateLimit: 1500,
      webhookReplayRetentionHours: 72,
      complianceRequestsPerMinute: 600,
      filesApiRequestsPerMinute: 100,
      pollerBudgetPercent: 30,
      chatPollerMinutes: 1,
      activityPollerMinutes: 1,
      filesApiPollerMinutes: 15,
      projectsPollerMinutes: 1,
      console: 'none',
      consoleIdp: 'none',
      consoleGroupsAttribute: 'groups',
      consoleAuditorGroup: 'archiver-auditors',
      consoleLegalAdminGroup: 'archiver-legal-admins',
      stalledPollerMinutes: 30,
      fixityRotationDays: 30,
      fixityDeepSamplePercent: 1,
    });
  });

  it('refuses an existing web ACL together with the opt-out from any web ACL', () => {
    expect(() =>
      parseDeploymentConfig({
        'archiver:webhookWebAcl': 'none',
        'archiver:webhookWebAclArn': 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/a1b2',
      }),
    ).toThrow(/archiver:webhookWebAclArn: contradicts webhookWebAcl=none/);
  });

  it('refuses a stalled-poller alarm that would fire between two scheduled runs', () => {
    expect(() =>
      parseDeploymentConfig({ 'archiver:filesApiPollerMinutes': '60', 'archiver:stalledPollerMinutes': '90' }),
    ).toThrow(/archiver:stalledPollerMinutes: must be at least twice the longest poller schedule/);
  });

  it('reads command-line strings as numbers and ignores context keys without the archiver: prefix', () => {
    const config = parseDeploymentConfig({
      'archiver:retentionDays': '3650',
      'archiver:maxConcurrency': 8,
      '@aws-cdk/core:enablePartitionLiterals': true,
    });
    expect(config.retentionDays).toBe(3650);
    expect(config.maxConcurrency).toBe(8);
    // The deep sample may be a fraction of a percent (a large archive).
    const fixity = parseDeploymentConfig({
      'archiver:fixityDeepSamplePercent': '0.25',
      'archiver:fixityRotationDays': 365,
    });
    expect([fixity.fixityRotationDays, fixity.fixityDeepSamplePercent]).toEqual([365, 0.25]);
  });

  it('rejects an unknown key and lists the known ones (a typo is never silently ignored)', () => {
    const message = synthError({ 'archiver:retentionDay': '10' });
    expect(message).toMatch(/unknown key\(s\) archiver:retentionDay/);
    expect(message).toContain('archiver:retentionDays');
  });

  it.each([
    ['archiver:retentionMode', 'WORM', /archiver:retentionMode: /],
    ['archiver:retentionDays', '0', /archiver:retentionDays: .*>=1/],
    ['archiver:retentionDays', 'seven years', /archiver:retentionDays: /],
    ['archiver:alarmEmail', 'ops-at-example', /archiver:alarmEmail: must be an e-mail address/],
    ['archiver:upstreamBaseUrl', 'http://api.anthropic.com', /archiver:upstreamBaseUrl: must be an https:\/\/ URL/],
    ['archiver:maxConcurrency', '1', /archiver:maxConcurrency: .*>=2/],
    ['archiver:ingestMemoryMb', '128', /archiver:ingestMemoryMb: .*>=512/],
    ['archiver:batchSize', '11', /archiver:batchSize: .*<=10/],
    ['archiver:logRetentionDays', '42', /archiver:logRetentionDays: must be one of 1, 3, 5/],
    ['archiver:environment', 'Prod_1', /archiver:environment: must be 1-12 lowercase/],
    ['archiver:environment', 'production-eu-west', /archiver:environment: must be 1-12 lowercase/],
    [
      'archiver:webhookWebAclArn',
      'arn:aws:wafv2:eu-west-1:123456789012:global/webacl/x/1',
      /archiver:webhookWebAclArn: must be the ARN of a regional WAFv2 web ACL/,
    ],
    ['archiver:webhookBurstLimit', '5', /archiver:webhookBurstLimit: must be at least webhookRateLimit/],
    ['archiver:webhookWebAcl', 'off', /archiver:webhookWebAcl: /],
    ['archiver:webhookIpRateLimit', '9', /archiver:webhookIpRateLimit: .*>=10/],
    ['archiver:webhookReplayRetentionHours', '0', /archiver:webhookReplayRetentionHours: .*>=1/],
    ['archiver:fixityRotationDays', '0', /archiver:fixityRotationDays: .*>=1/],
    ['archiver:fixityRotationDays', '366', /archiver:fixityRotationDays: .*<=365/],
    ['archiver:fixityRotationDays', '7.5', /archiver:fixityRotationDays: /],
    ['archiver:fixityDeepSamplePercent', '-1', /archiver:fixityDeepSamplePercent: /],
    ['archiver:fixityDeepSamplePercent', '100.5', /archiver:fixityDeepSamplePercent: .*<=100/],
    ['archiver:fixityDeepSamplePercent', '1%', /archiver:fixityDeepSamplePercent: /],
  ])('rejects %s=%s with a message naming the key', (key, value, expected) => {
    expect(synthError({ [key]: value })).toMatch(expected);
  });

  it('reports every problem at once', () => {
    const message = synthError({ 'archiver:batchSize': '0', 'archiver:retentionMode': 'x' }) ?? '';
    expect(message).toContain('archiver:batchSize');
    expect(message).toContain('archiver:retentionMode');
  });

  describe('ingest memory: every record of a batch is archived at once', () => {
    it('refuses a batch that does not fit the function, naming the settings and the formula', () => {
      // 10 × (4 + 2) × 16 + 256 = 1216 MB > 1024 MB.
      const message = synthError({ 'archiver:batchSize': '10', 'archiver:partSizeMib': '16' });
      expect(message).toContain(
        'archiver:ingestMemoryMb: 1024 MB does not hold a full batch: ' +
          'archiver:batchSize (10) × (archiver:uploadConcurrency (4) + ' +
          '2) × archiver:partSizeMib (16) + 256 MB for the runtime = 1216 ' +
          'MB',
      );
      expect(message).toContain('raise archiver:ingestMemoryMb to at least 1216');
    });

    it.each<[Record<string, string>, string]>([
      [{}, 'the defaults: 5 × 6 × 8 + 256 = 496 MB'],
      [
        { 'archiver:batchSize': '10', 'archiver:partSizeMib': '16', 'archiver:ingestMemoryMb': '1216' },
        'exactly enough',
      ],
      [
        {
          'archiver:batchSize': '10',
          'archiver:uploadConcurrency': '16',
          'archiver:partSizeMib': '8',
          'archiver:ingestMemoryMb': '1696',
        },
        'more parts in flight, more memory',
      ],
    ])('accepts %j (%s)', (context, _why) => {
      expect(synthError(context)).toBeUndefined();
    });

    it('refuses one MB short of the need', () => {
      expect(
        synthError({ 'archiver:batchSize': '10', 'archiver:partSizeMib': '16', 'archiver:ingestMemoryMb': '1215' }),
      ).toMatch(/archiver:ingestMemoryMb: 1215 MB does not hold a full batch/);
    });

    it('checks the most memory any configuration can need against the largest function', () => {
      // 10 × (16 + 2) × 64 + 256 = 11776 MB: no Lambda function is that large.
      const message = synthError({
        'archiver:batchSize': '10',
        'archiver:uploadConcurrency': '16',
        'archiver:partSizeMib': '64',
        'archiver:ingestMemoryMb': '10240',
      });
      expect(message).toMatch(/= 11776 MB/);
    });
  });

  it('fails building the app (hence `cdk synth`) on an invalid value', () => {
    const app = new App({ context: { 'archiver:retentionDays': '-1' } });
    expect(() => addArchiverStacks(app)).toThrow(ConfigurationError);
  });
});
