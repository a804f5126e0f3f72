import { describe, expect, it } from 'vitest';
import { asArray, logicalIdOf, onlyResource, resourcesOf, statementsOf, type ArchiverSynths, type Statement } from './archiver-fixture.js';

/** Every IAM grant in the service stack, statement by statement. */
export function describeLeastPrivilege({ defaults: app }: ArchiverSynths): void {
  const t = app.serviceTemplate;

  /** Data-stack resources as they appear in the service stack: named inside a cross-stack output reference. */
  const DATA_RESOURCES: Record<string, string> = {
    [logicalIdOf(app.data.archiveKey)]: 'archive key',
    [logicalIdOf(app.data.pipelineKey)]: 'pipeline key',
    [logicalIdOf(app.data.index.table)]: 'index table',
    [logicalIdOf(app.data.queues.queue)]: 'ingest queue',
    [logicalIdOf(app.data.queues.deadLetterQueue)]: 'dead-letter queue',
    [logicalIdOf(app.data.upstreamApiKey)]: 'upstream key secret',
    [logicalIdOf(app.data.webhook.secret)]: 'webhook secret',
    [logicalIdOf(app.data.webhook.replayTable)]: 'replay table',
  };
  const LOCAL_RESOURCES: Record<string, string> = {
    [logicalIdOf(app.service.ingest.logGroup)]: 'ingest log group',
    [logicalIdOf(app.service.lookup.logGroup)]: 'lookup log group',
    [logicalIdOf(app.service.webhook.function.logGroup)]: 'webhook log group',
    [logicalIdOf(app.service.discovery.functions.chats.logGroup)]: 'chats log group',
    [logicalIdOf(app.service.discovery.functions.activities.logGroup)]: 'activities log group',
    [logicalIdOf(app.service.discovery.functions.files_api.logGroup)]: 'files_api log group',
  };

  /** A readable name for a policy resource; anything unrecognised fails the test that meets it. */
  function labelOf(resource: unknown): string {
    if (resource === '*') return '*';
    const json = JSON.stringify(resource);
    const outputName = /^\{"Fn::GetStackOutput":\{.*"OutputName":"([A-Za-z0-9]+)"\}\}$/.exec(json)?.[1];
    for (const [id, label] of Object.entries(DATA_RESOURCES)) if (outputName?.includes(id)) return label;
    for (const [id, label] of Object.entries(LOCAL_RESOURCES)) if (json === JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] })) return label;
    if (/^\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":s3:::claude-file-archiver-dev-",\{"Ref":"AWS::AccountId"\},"-",\{"Ref":"AWS::Region"\},"\/\*"\]\]\}$/.test(json)) {
      return 'archive objects';
    }
    if (/^\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":s3:::claude-file-archiver-dev-",\{"Ref":"AWS::AccountId"\},"-",\{"Ref":"AWS::Region"\}\]\]\}$/.test(json)) {
      return 'archive bucket';
    }
    throw new Error(`unrecognised resource in a policy: ${json}`);
  }

  /** `<resource label> <action>[ if <condition>]` for every allowed action of a policy document, sorted. */
  function grantsOf(policyDocument: unknown): string[] {
    const grants: string[] = [];
    for (const s of statementsOf(policyDocument)) {
      expect(s.Effect).toBe('Allow');
      const condition = s.Condition === undefined ? '' : ` if ${JSON.stringify(s.Condition)}`;
      for (const resource of asArray(s.Resource)) for (const action of asArray(s.Action)) grants.push(`${labelOf(resource)} ${action}${condition}`);
    }
    return grants.sort();
  }

  function allIdentityStatements(): Statement[] {
    const docs = [
      ...Object.values(resourcesOf(t, 'AWS::IAM::Policy')).map((p) => p.Properties['PolicyDocument']),
      ...Object.values(resourcesOf(t, 'AWS::IAM::ManagedPolicy')).map((p) => p.Properties['PolicyDocument']),
      ...Object.values(resourcesOf(t, 'AWS::IAM::Role')).flatMap((r) => (r.Properties['Policies'] ?? []).map((p: { PolicyDocument: unknown }) => p.PolicyDocument)),
    ];
    return docs.flatMap(statementsOf);
  }

  const LOGS_AND_TRACES = (fn: 'ingest' | 'lookup' | 'webhook' | 'chats' | 'activities' | 'files_api') => [
    `${fn} log group logs:CreateLogStream`,
    `${fn} log group logs:PutLogEvents`,
    '* xray:PutTelemetryRecords',
    '* xray:PutTraceSegments',
  ];

  describe('least privilege', () => {
    it('no identity policy allows a wildcard action ("*", "s3:*", "kms:GenerateDataKey*", …)', () => {
      const statements = allIdentityStatements();
      expect(statements.length).toBeGreaterThan(0);
      const wildcards = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => asArray(s.Action)).filter((a) => a.includes('*'));
      expect(wildcards).toEqual([]);
    });

    it('only X-Ray actions, which support no resource-level permissions, are allowed on Resource "*"', () => {
      const onStar = allIdentityStatements()
        .filter((s) => s.Effect === 'Allow' && asArray(s.Resource).includes('*'))
        .flatMap((s) => asArray(s.Action));
      expect(onStar.length).toBeGreaterThan(0);
      for (const action of onStar) expect(action).toMatch(/^xray:Put(TraceSegments|TelemetryRecords)$/);
    });

    it('function roles attach no managed policy (AWSLambdaBasicExecutionRole covers every log group)', () => {
      for (const fn of [app.service.ingest, app.service.lookup, app.service.webhook.function, ...Object.values(app.service.discovery.functions)]) {
        const role = resourcesOf(t, 'AWS::IAM::Role')[logicalIdOf(fn.role)];
        expect(role?.Properties['ManagedPolicyArns']).toBeUndefined();
      }
    });

    it('the ingest role holds exactly the grants the ingest path needs, each on its own resource', () => {
      const policy = onlyResource(t, 'AWS::IAM::Policy', 'IngestRoleDefaultPolicy');
      expect(grantsOf(policy.Properties['PolicyDocument'])).toEqual(
        [
          ...LOGS_AND_TRACES('ingest'),
          'archive objects s3:PutObject',
          'archive objects s3:GetObject',
          'archive objects s3:GetObjectVersion',
          'archive objects s3:AbortMultipartUpload',
          'archive objects s3:ListMultipartUploadParts',
          // Only listings under the archive layout: ingest asks whether a file's key holds an object.
          'archive bucket s3:ListBucket if {"StringLike":{"s3:prefix":"archive/*"}}',
          'archive key kms:Decrypt',
          'archive key kms:DescribeKey',
          'archive key kms:Encrypt',
          'archive key kms:GenerateDataKey',
          'index table dynamodb:GetItem',
          'index table dynamodb:PutItem',
          'index table dynamodb:UpdateItem',
          'index table dynamodb:Query',
          'ingest queue sqs:ReceiveMessage',
          'ingest queue sqs:DeleteMessage',
          'ingest queue sqs:ChangeMessageVisibility',
          'ingest queue sqs:GetQueueAttributes',
          'ingest queue sqs:GetQueueUrl',
          'pipeline key kms:Decrypt',
          'pipeline key kms:GenerateDataKey',
          'dead-letter queue sqs:SendMessage',
          'upstream key secret secretsmanager:GetSecretValue',
        ].sort(),
      );
    });

    it('the lookup role may only read the table and get (exact versions of) archived objects', () => {
      const policy = onlyResource(t, 'AWS::IAM::Policy', 'LookupRoleDefaultPolicy');
      expect(grantsOf(policy.Properties['PolicyDocument'])).toEqual(
        [
          ...LOGS_AND_TRACES('lookup'),
          'archive objects s3:GetObject',
          'archive objects s3:GetObjectVersion',
          'archive key kms:Decrypt',
          'archive key kms:DescribeKey',
          'index table dynamodb:GetItem',
          'index table dynamodb:BatchGetItem',
          'index table dynamodb:Query',
        ].sort(),
      );
    });

    it('the webhook role may only send to the ingest queue, read its two secrets, put and get replay ids and use the budget items', () => {
      const policy = onlyResource(t, 'AWS::IAM::Policy', 'WebhookFunctionRoleDefaultPolicy');
      const budgetOnly = ' if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["BUDGET#*"]}}';
      expect(grantsOf(policy.Properties['PolicyDocument'])).toEqual(
        [
          ...LOGS_AND_TRACES('webhook'),
          `index table dynamodb:GetItem${budgetOnly}`,
          `index table dynamodb:PutItem${budgetOnly}`,
          `index table dynamodb:UpdateItem${budgetOnly}`,
          'archive key kms:Decrypt',
          'archive key kms:DescribeKey',
          'archive key kms:Encrypt',
          'archive key kms:GenerateDataKey',
          'ingest queue sqs:SendMessage',
          'replay table dynamodb:PutItem',
          'replay table dynamodb:GetItem',
          'pipeline key kms:Decrypt',
          'pipeline key kms:DescribeKey',
          'pipeline key kms:Encrypt',
          'pipeline key kms:GenerateDataKey',
          'webhook secret secretsmanager:GetSecretValue',
          'upstream key secret secretsmanager:GetSecretValue',
        ].sort(),
      );
    });

    it('each poller role may read and write single items of the index table, send jobs and read the key, nothing more', () => {
      for (const source of ['chats', 'activities', 'files_api'] as const) {
        const fn = app.service.discovery.functions[source];
        const policy = resourcesOf(t, 'AWS::IAM::Policy')[logicalIdOf(fn.role.node.findChild('DefaultPolicy'))];
        expect(grantsOf(policy?.Properties['PolicyDocument']), source).toEqual(
          [
            ...LOGS_AND_TRACES(source),
            'index table dynamodb:GetItem',
            'index table dynamodb:PutItem',
            'index table dynamodb:UpdateItem',
            'archive key kms:Decrypt',
            'archive key kms:DescribeKey',
            'archive key kms:Encrypt',
            'archive key kms:GenerateDataKey',
            'ingest queue sqs:SendMessage',
            'pipeline key kms:Decrypt',
            'pipeline key kms:GenerateDataKey',
            'upstream key secret secretsmanager:GetSecretValue',
          ].sort(),
        );
      }
    });

    it('the job producer policy may only send to the ingest queue', () => {
      const policy = onlyResource(t, 'AWS::IAM::ManagedPolicy', 'JobProducerPolicy');
      expect(grantsOf(policy.Properties['PolicyDocument'])).toEqual(
        ['ingest queue sqs:SendMessage', 'ingest queue sqs:GetQueueUrl', 'pipeline key kms:Decrypt', 'pipeline key kms:GenerateDataKey'].sort(),
      );
    });

    it('bucket policies allow nothing but S3 log delivery from the archive bucket into the log bucket', () => {
      const allows = Object.values(resourcesOf(app.dataTemplate, 'AWS::S3::BucketPolicy'))
        .flatMap((p) => statementsOf(p.Properties['PolicyDocument']))
        .filter((s) => s.Effect === 'Allow');
      expect(allows).toEqual([
        expect.objectContaining({
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Action: 's3:PutObject',
          Condition: expect.objectContaining({
            ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalIdOf(app.data.archive.bucket), 'Arn'] } },
          }),
        }),
      ]);
    });
  });
}
