import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ALL_INDEXES } from '../../shared/contracts/search-index.js';
import { INDEX_TABLE_KEYS } from '../../shared/contracts/table-keys.js';
import {
  asArray,
  logicalIdOf,
  onlyResource,
  resourcesOf,
  statementsOf,
  type ArchiverSynths,
} from './archiver-fixture.js';

/** Template properties of the stateful stack. */
export function describeDataStack({ defaults, custom }: ArchiverSynths): void {
  const t = defaults.dataTemplate;
  const archiveKeyArn = { 'Fn::GetAtt': [logicalIdOf(defaults.data.archiveKey), 'Arn'] };
  const pipelineKeyArn = { 'Fn::GetAtt': [logicalIdOf(defaults.data.pipelineKey), 'Arn'] };
  const archiveBucketId = logicalIdOf(defaults.data.archive.bucket);
  const logsBucketId = logicalIdOf(defaults.data.archive.accessLogsBucket);
  const exportsBucketId = logicalIdOf(defaults.data.exports.bucket);
  const archiveBucket = () => resourcesOf(t, 'AWS::S3::Bucket')[archiveBucketId]?.Properties ?? {};

  describe('archive bucket', () => {
    it('encrypts every object with the customer-managed archive key (SSE-KMS with a bucket key)', () => {
      expect(archiveBucket()['BucketEncryption']).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: archiveKeyArn },
            BucketKeyEnabled: true,
          },
        ],
      });
    });

    it('has Object Lock on with a GOVERNANCE default retention of 2557 days unless configured', () => {
      expect(archiveBucket()['ObjectLockEnabled']).toBe(true);
      expect(archiveBucket()['ObjectLockConfiguration']).toEqual({
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2557 } },
      });
    });

    it('takes the Object Lock mode and days from configuration (COMPLIANCE, 3650)', () => {
      custom.dataTemplate.hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3650 } },
        },
      });
    });

    it('is versioned (Object Lock protects versions; the index records exact version ids)', () => {
      expect(archiveBucket()['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
    });

    it('sends server access logs to the separate log bucket', () => {
      expect(archiveBucket()['LoggingConfiguration']).toEqual({
        DestinationBucketName: { Ref: logsBucketId },
        LogFilePrefix: 'archive-bucket/',
      });
    });

    it('aborts incomplete multipart uploads after 1 day', () => {
      expect(archiveBucket()['LifecycleConfiguration']).toEqual({
        Rules: [
          {
            Id: 'AbortIncompleteMultipartUploads',
            Status: 'Enabled',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
      });
    });

    it('transitions to the configured archive storage class after N days only when configured', () => {
      custom.dataTemplate.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({
              Id: 'TransitionToArchiveStorage',
              Status: 'Enabled',
              Transitions: [{ StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 90 }],
            }),
          ]),
        },
      });
    });

    it('is named as the service stack expects (its grants and ARCHIVE_BUCKET use the same name)', () => {
      const ingestEnv = onlyResource(defaults.serviceTemplate, 'AWS::Lambda::Function', 'IngestFunction').Properties[
        'Environment'
      ].Variables;
      expect(archiveBucket()['BucketName']).toEqual(ingestEnv.ARCHIVE_BUCKET);
    });
  });

  describe('all three buckets (archive, access logs, exports)', () => {
    it('block public access on every setting', () => {
      const buckets = resourcesOf(t, 'AWS::S3::Bucket');
      expect(Object.keys(buckets)).toHaveLength(3);
      for (const bucket of Object.values(buckets)) {
        expect(bucket.Properties['PublicAccessBlockConfiguration']).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
      }
    });

    it('deny any request without TLS, on the bucket and its objects', () => {
      const policies = Object.values(resourcesOf(t, 'AWS::S3::BucketPolicy'));
      const covered = new Set<string>();
      for (const policy of policies) {
        const deny = statementsOf(policy.Properties['PolicyDocument']).find(
          (s) =>
            s.Effect === 'Deny' &&
            JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
        );
        expect(deny, 'a Deny on aws:SecureTransport=false').toBeDefined();
        expect(deny?.Principal).toEqual({ AWS: '*' });
        expect(deny?.Action).toBe('s3:*');
        const bucketRef = policy.Properties['Bucket'];
        const bucketId: string = bucketRef.Ref;
        expect(deny?.Resource).toEqual([
          { 'Fn::GetAtt': [bucketId, 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
        ]);
        covered.add(bucketId);
      }
      expect([...covered].sort()).toEqual([archiveBucketId, logsBucketId, exportsBucketId].sort());
    });
  });

  describe('exports bucket', () => {
    const exportsBucket = () => resourcesOf(t, 'AWS::S3::Bucket')[exportsBucketId]?.Properties ?? {};

    it('is encrypted with the archive key (a bag holds archived bytes), versioned, and not the archive bucket', () => {
      expect(exportsBucket()['BucketEncryption']).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: archiveKeyArn },
          },
        ],
      });
      expect(exportsBucket()['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
      // No Object Lock: its default retention would bind every bag and checkpoint for years.
      expect(exportsBucket()['ObjectLockEnabled']).toBeUndefined();
    });

    it(
      'expires bags after exportExpireDays (30 by default, configurable), ' +
        'replaced versions after a day, abandoned uploads after 7',
      () => {
        const rules = (p: Record<string, unknown>) =>
          (p['LifecycleConfiguration'] as { Rules: { ExpirationInDays?: number }[] }).Rules;
        expect(rules(exportsBucket())).toEqual([
          {
            Id: 'ExpireExports',
            Prefix: 'exports/',
            Status: 'Enabled',
            ExpirationInDays: 30,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          },
        ]);
        const id = logicalIdOf(custom.data.exports.bucket);
        expect(
          rules(resourcesOf(custom.dataTemplate, 'AWS::S3::Bucket')[id]?.Properties ?? {})[0]?.ExpirationInDays,
        ).toBe(90);
      },
    );

    it(
      'is named as the service stack expects (the worker and lookup ' + 'grants and EXPORTS_BUCKET use the same name)',
      () => {
        const workerEnv = onlyResource(defaults.serviceTemplate, 'AWS::Lambda::Function', 'ExportFunction').Properties[
          'Environment'
        ].Variables;
        expect(exportsBucket()['BucketName']).toEqual(workerEnv.EXPORTS_BUCKET);
        expect(exportsBucket()['LoggingConfiguration']).toMatchObject({ LogFilePrefix: 'exports-bucket/' });
      },
    );
  });

  describe('index table', () => {
    const table = () => onlyResource(t, 'AWS::DynamoDB::Table', 'IndexTable').Properties;

    it('takes its key schema from shared/contracts/table-keys.ts', () => {
      const { partitionKey, sortKey } = INDEX_TABLE_KEYS;
      expect(table()['KeySchema']).toEqual([
        { AttributeName: partitionKey.name, KeyType: 'HASH' },
        { AttributeName: sortKey.name, KeyType: 'RANGE' },
      ]);
      expect(table()['AttributeDefinitions']).toEqual(
        expect.arrayContaining([
          { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
          { AttributeName: sortKey.name, AttributeType: sortKey.type },
        ]),
      );
    });

    it('has the search and access-trail indexes of shared/contracts/search-index.ts, all attributes projected', () => {
      const indexes = table()['GlobalSecondaryIndexes'] as {
        IndexName: string;
        KeySchema: { AttributeName: string; KeyType: string }[];
        Projection: { ProjectionType: string };
      }[];
      expect(indexes.map((i) => i.IndexName).sort()).toEqual(ALL_INDEXES.map((i) => i.name).sort());
      for (const contract of ALL_INDEXES) {
        const index = indexes.find((i) => i.IndexName === contract.name);
        expect(index?.KeySchema).toEqual([
          { AttributeName: contract.partitionKey, KeyType: 'HASH' },
          { AttributeName: contract.sortKey, KeyType: 'RANGE' },
        ]);
        expect(index?.Projection).toEqual({ ProjectionType: 'ALL' });
      }
      // Every key attribute is a string, and DynamoDB's limit of 20 indexes per table holds.
      const defined = (table()['AttributeDefinitions'] as { AttributeName: string; AttributeType: string }[]).map(
        (d) => `${d.AttributeName}:${d.AttributeType}`,
      );
      for (const contract of ALL_INDEXES)
        expect(defined).toEqual(expect.arrayContaining([`${contract.partitionKey}:S`, `${contract.sortKey}:S`]));
      expect(indexes.length).toBeLessThanOrEqual(20);
    });

    it('bills on demand', () => {
      expect(table()['BillingMode']).toBe('PAY_PER_REQUEST');
    });

    it('has point-in-time recovery', () => {
      expect(table()['PointInTimeRecoverySpecification']).toEqual({ PointInTimeRecoveryEnabled: true });
    });

    it('has deletion protection', () => {
      expect(table()['DeletionProtectionEnabled']).toBe(true);
    });

    it('expires working-memory items (seen activity ids) on the attribute the store writes', () => {
      expect(table()['TimeToLiveSpecification']).toEqual({
        AttributeName: INDEX_TABLE_KEYS.timeToLiveAttribute,
        Enabled: true,
      });
    });

    it('is encrypted with the customer-managed archive key', () => {
      expect(table()['SSESpecification']).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: archiveKeyArn });
    });
  });

  describe('ingest and export queues', () => {
    const queueId = logicalIdOf(defaults.data.queues.queue);
    const dlqId = logicalIdOf(defaults.data.queues.deadLetterQueue);
    const exportQueueId = logicalIdOf(defaults.data.exportQueues.queue);
    const exportDlqId = logicalIdOf(defaults.data.exportQueues.deadLetterQueue);
    const queues = () => resourcesOf(t, 'AWS::SQS::Queue');

    it('are all encrypted with the customer-managed pipeline key', () => {
      expect(Object.keys(queues()).sort()).toEqual([dlqId, queueId, exportQueueId, exportDlqId].sort());
      for (const q of Object.values(queues())) expect(q.Properties['KmsMasterKeyId']).toEqual(pipelineKeyArn);
    });

    it('all deny any request without TLS', () => {
      const denied = new Set<string>();
      for (const policy of Object.values(resourcesOf(t, 'AWS::SQS::QueuePolicy'))) {
        for (const s of statementsOf(policy.Properties['PolicyDocument'])) {
          if (
            s.Effect === 'Deny' &&
            JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } })
          ) {
            expect(s.Action).toBe('sqs:*');
            expect(s.Principal).toEqual({ AWS: '*' });
            denied.add(JSON.stringify(s.Resource));
          }
        }
      }
      expect([...denied].sort()).toEqual(
        [queueId, dlqId, exportQueueId, exportDlqId].map((id) => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] })).sort(),
      );
    });

    it('redrive to the dead-letter queue after 5 receives by default', () => {
      expect(queues()[queueId]?.Properties['RedrivePolicy']).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
        maxReceiveCount: 5,
      });
    });

    it('take maxReceiveCount from configuration', () => {
      custom.dataTemplate.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
      });
    });

    it('keep dead letters for 14 days', () => {
      expect(queues()[dlqId]?.Properties['MessageRetentionPeriod']).toBe(14 * 24 * 3600);
    });
  });

  describe('upstream API key secret', () => {
    it('is encrypted with the pipeline key and its value is generated, never written in the template', () => {
      const secret = onlyResource(t, 'AWS::SecretsManager::Secret', 'UpstreamApiKey').Properties;
      expect(secret['KmsKeyId']).toEqual(pipelineKeyArn);
      expect(secret['SecretString']).toBeUndefined();
      expect(secret['GenerateSecretString']).toEqual({});
    });
  });

  describe('stateful resources', () => {
    it('are all retained when the stack is deleted or a resource replaced', () => {
      const stateful = [
        'AWS::S3::Bucket',
        'AWS::DynamoDB::Table',
        'AWS::SQS::Queue',
        'AWS::KMS::Key',
        'AWS::SecretsManager::Secret',
      ];
      const found: string[] = [];
      for (const type of stateful) {
        for (const [id, resource] of Object.entries(resourcesOf(t, type))) {
          found.push(type);
          expect({ id, deletion: resource.DeletionPolicy, replace: resource.UpdateReplacePolicy }).toEqual({
            id,
            deletion: 'Retain',
            replace: 'Retain',
          });
        }
      }
      expect(new Set(found)).toEqual(new Set(stateful));
    });

    it('live in a stack with termination protection, apart from the code', () => {
      expect(defaults.data.terminationProtection).toBe(true);
      expect(resourcesOf(t, 'AWS::Lambda::Function')).toEqual({});
    });
  });

  describe('KMS keys', () => {
    it('all rotate automatically, in both stacks', () => {
      const keys = [
        ...Object.values(resourcesOf(t, 'AWS::KMS::Key')),
        ...Object.values(resourcesOf(defaults.serviceTemplate, 'AWS::KMS::Key')),
      ];
      expect(keys.length).toBe(3);
      for (const key of keys) expect(key.Properties['EnableKeyRotation']).toBe(true);
    });

    it(
      'name no principal but the account root, so each use is granted ' +
        '(and scoped) in IAM policies and the data stack never references ' +
        'a service-stack role',
      () => {
        for (const key of Object.values(resourcesOf(t, 'AWS::KMS::Key'))) {
          const principals = statementsOf(key.Properties['KeyPolicy']).flatMap((s) => asArray(s.Principal));
          for (const p of principals) expect(JSON.stringify(p)).toContain(':root');
        }
      },
    );
  });
}
