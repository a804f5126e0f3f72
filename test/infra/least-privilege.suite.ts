import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { POLLER_SOURCES, type PollerSource } from '../../shared/contracts/discovery-ledger.js';
import { LOOKUP_ROUTES, type LookupRole } from '../../shared/contracts/lookup-routes.js';
import { ALL_INDEXES } from '../../shared/contracts/search-index.js';
import {
  asArray,
  logicalIdOf,
  resourcesOf,
  statementsOf,
  type ArchiverSynths,
  type CfnResource,
  type Statement,
  type SynthesizedArchiver,
} from './archiver-fixture.js';

/**
 * Every IAM grant of the app, principal by principal, pinned to the exact list: an action added to or
 * removed from any role or managed policy, a new policy attached to a role, or a new role or managed
 * policy fails a test here. Each grant is `<resource label> <action>[ if <condition>]`.
 *
 * Why each action is there (the integration suite records every SDK call the handlers make and checks
 * it against these policies, see test/support/permissions/; the grants below that no SDK call needs
 * are used by AWS on the role's behalf):
 * - logs and X-Ray: the Lambda service writes the function's logs and traces with its role;
 * - sqs:ReceiveMessage, DeleteMessage, GetQueueAttributes and the queue key's kms:Decrypt: Lambda's
 *   event source mapping polls the ingest queue with the ingest role;
 * - kms:Decrypt on the archive key for the table: DynamoDB decrypts the table key for each caller;
 *   kms:GenerateDataKey / kms:Decrypt on the archive key for objects and on the pipeline key for
 *   messages and the secret: S3, SQS and Secrets Manager use the keys for the caller.
 */
export function describeLeastPrivilege({ defaults: app, custom }: ArchiverSynths): void {
  const t = app.serviceTemplate;

  /** The grants of every principal of an app, by a readable name; anything unrecognised is named by its logical id. */
  function grantsByPrincipal(archiver: SynthesizedArchiver): Record<string, string[]> {
    const { service, data } = archiver;
    const DATA_RESOURCES: Record<string, string> = {
      [logicalIdOf(data.archiveKey)]: 'archive key',
      [logicalIdOf(data.pipelineKey)]: 'pipeline key',
      [logicalIdOf(data.index.table)]: 'index table',
      [logicalIdOf(data.queues.queue)]: 'ingest queue',
      [logicalIdOf(data.queues.deadLetterQueue)]: 'dead-letter queue',
      [logicalIdOf(data.upstreamApiKey)]: 'upstream key secret',
      [logicalIdOf(data.webhook.secret)]: 'webhook secret',
      [logicalIdOf(data.webhook.replayTable)]: 'replay table',
      [logicalIdOf(data.exportQueues.queue)]: 'export queue',
      [logicalIdOf(data.exportQueues.deadLetterQueue)]: 'export dead-letter queue',
    };
    const LOCAL_RESOURCES: Record<string, string> = {
      [logicalIdOf(service.ingest.logGroup)]: 'ingest log group',
      [logicalIdOf(service.lookup.logGroup)]: 'lookup log group',
      [logicalIdOf(service.webhook.function.logGroup)]: 'webhook log group',
      [logicalIdOf(service.fixity.function.logGroup)]: 'fixity log group',
      [logicalIdOf(service.exportWorker.logGroup)]: 'export log group',
      ...Object.fromEntries(
        POLLERS.map((source) => [logicalIdOf(service.discovery.functions[source].logGroup), `${source} log group`]),
      ),
    };
    const PRINCIPALS: Record<string, string> = {
      [logicalIdOf(service.ingest.role)]: 'ingest role',
      [logicalIdOf(service.lookup.role)]: 'lookup role',
      [logicalIdOf(service.webhook.function.role)]: 'webhook role',
      [logicalIdOf(service.fixity.function.role)]: 'fixity role',
      [logicalIdOf(service.exportWorker.role)]: 'export worker role',
      ...Object.fromEntries(
        POLLERS.map((source) => [logicalIdOf(service.discovery.functions[source].role), `${source} poller role`]),
      ),
      [logicalIdOf(service.lookupApi.api.node.findChild('CloudWatchRole'))]: 'API Gateway logging role',
      [logicalIdOf(service.lookupApi.auditorPolicy)]: 'auditor policy',
      [logicalIdOf(service.lookupApi.legalAdminPolicy)]: 'legal admin policy',
      [logicalIdOf(service.lookupApi.operatorPolicy)]: 'operator policy',
      [logicalIdOf(service.node.findChild('JobProducerPolicy'))]: 'job producer policy',
    };
    const restApiId = logicalIdOf(service.lookupApi.api);
    const json = (v: unknown) => JSON.stringify(v);
    const partitionJoin = (...parts: unknown[]) =>
      json({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ...parts]] });
    const archiveBucketArn = partitionJoin(':s3:::claude-file-archiver-dev-', { Ref: 'AWS::AccountId' }, '-', {
      Ref: 'AWS::Region',
    });

    /** A readable name for a policy resource; anything unrecognised fails the test that meets it. */
    function labelOf(resource: unknown): string {
      if (resource === '*') return '*';
      const text = json(resource);
      const outputName = /^\{"Fn::GetStackOutput":\{.*"OutputName":"([A-Za-z0-9]+)"\}\}$/.exec(text)?.[1];
      for (const [id, label] of Object.entries(DATA_RESOURCES)) if (outputName?.includes(id)) return label;
      for (const [id, label] of Object.entries(LOCAL_RESOURCES))
        if (text === json({ 'Fn::GetAtt': [id, 'Arn'] })) return label;
      if (text === archiveBucketArn) return 'archive bucket';
      const exportsBucketArn = [
        ':s3:::claude-file-exports-dev-',
        { Ref: 'AWS::AccountId' },
        '-',
        { Ref: 'AWS::Region' },
      ];
      if (text === partitionJoin(...exportsBucketArn)) return 'exports bucket';
      if (text === partitionJoin(...exportsBucketArn, '/exports/*')) return 'export keys';
      const indexArn =
        /^\{"Fn::Join":\["",\[\{"Fn::GetStackOutput":\{.*"OutputName":"([A-Za-z0-9]+)"\}\},"\/index\/([a-z0-9-]+)"\]\]\}$/.exec(
          text,
        );
      if (indexArn?.[1]?.includes(logicalIdOf(data.index.table))) return `index ${indexArn[2]}`;
      if (
        text ===
        partitionJoin(':s3:::claude-file-archiver-dev-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }, '/*')
      )
        return 'archive objects';
      if (
        text ===
        partitionJoin(
          ':s3:::claude-file-archiver-dev-',
          { Ref: 'AWS::AccountId' },
          '-',
          { Ref: 'AWS::Region' },
          '/archive/*',
        )
      )
        return 'archive keys';
      const routeArn = escapeRegExp(
        partitionJoin(
          ':execute-api:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':',
          { Ref: restApiId },
          'ROUTE',
        ),
      ).replace('ROUTE', '(/v1/[A-Z]+/[^"]+)');
      const route = new RegExp(`^${routeArn}$`).exec(text)?.[1];
      if (route) return `lookup API ${route}`;
      const awsManaged =
        /^\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":iam::aws:policy\/([A-Za-z0-9/_-]+)"\]\]\}$/.exec(
          text,
        )?.[1];
      if (awsManaged) return `AWS managed policy ${awsManaged}`;
      throw new Error(`unrecognised resource in a policy: ${text}`);
    }

    const grantsOf = (statements: Statement[]): string[] =>
      statements.flatMap((s) => {
        const condition = s.Condition === undefined ? '' : ` if ${json(s.Condition)}`;
        // A Deny would not show as a missing grant: name it so the exact lists below fail.
        const effect = s.Effect === 'Allow' ? '' : `${s.Effect} `;
        return asArray(s.Resource).flatMap((resource) =>
          asArray(s.Action).map((action) => `${effect}${labelOf(resource)} ${action}${condition}`),
        );
      });

    const byPrincipal: Record<string, string[]> = {};
    // A set: the same grant from two statements (the CDK merges some, not others) is one grant.
    const add = (principal: string, grants: string[]) =>
      (byPrincipal[principal] = [...new Set([...(byPrincipal[principal] ?? []), ...grants])].sort());
    const nameOf = (id: string) => PRINCIPALS[id] ?? `unlisted ${id}`;

    for (const template of [archiver.dataTemplate, archiver.serviceTemplate]) {
      const roles = resourcesOf(template, 'AWS::IAM::Role');
      const policies = {
        ...resourcesOf(template, 'AWS::IAM::Policy'),
        ...resourcesOf(template, 'AWS::IAM::ManagedPolicy'),
      };
      const refersTo = (list: unknown, id: string) => asArray(list ?? []).some((r) => json(r) === json({ Ref: id }));
      for (const [roleId, role] of Object.entries(roles)) {
        const inline = (role.Properties['Policies'] ?? []) as { PolicyDocument: unknown }[];
        add(
          nameOf(roleId),
          inline.flatMap((p) => grantsOf(statementsOf(p.PolicyDocument))),
        );
        for (const arn of asArray(role.Properties['ManagedPolicyArns'] ?? [])) {
          const attachedHere = Object.keys(policies).find((pid) => json(arn) === json({ Ref: pid }));
          // A managed policy of the app attached to a role counts as the role's; an AWS managed one by name.
          if (attachedHere === undefined) add(nameOf(roleId), [`attaches ${labelOf(arn)}`]);
        }
        for (const [pid, p] of Object.entries(policies)) {
          if (
            refersTo(p.Properties['Roles'], roleId) ||
            asArray(role.Properties['ManagedPolicyArns'] ?? []).some((a) => json(a) === json({ Ref: pid }))
          ) {
            add(nameOf(roleId), grantsOf(statementsOf(p.Properties['PolicyDocument'])));
          }
        }
      }
      for (const [pid, p] of Object.entries(policies)) {
        if (p.Type === 'AWS::IAM::Policy' && !Object.keys(roles).some((rid) => refersTo(p.Properties['Roles'], rid))) {
          add(
            `${nameOf(pid)} (attached to no role of the app)`,
            grantsOf(statementsOf(p.Properties['PolicyDocument'])),
          );
        }
        if (p.Type === 'AWS::IAM::ManagedPolicy' && !isAttached(pid, p, roles))
          add(nameOf(pid), grantsOf(statementsOf(p.Properties['PolicyDocument'])));
      }
    }
    return byPrincipal;
  }

  function isAttached(pid: string, policy: CfnResource, roles: Record<string, CfnResource>): boolean {
    if (policy.Properties['Roles'] !== undefined) return true;
    return Object.values(roles).some((r) =>
      asArray(r.Properties['ManagedPolicyArns'] ?? []).some((a) => JSON.stringify(a) === JSON.stringify({ Ref: pid })),
    );
  }

  function allIdentityStatements(): Statement[] {
    const docs = [
      ...Object.values(resourcesOf(t, 'AWS::IAM::Policy')).map((p) => p.Properties['PolicyDocument']),
      ...Object.values(resourcesOf(t, 'AWS::IAM::ManagedPolicy')).map((p) => p.Properties['PolicyDocument']),
      ...Object.values(resourcesOf(t, 'AWS::IAM::Role')).flatMap((r) =>
        (r.Properties['Policies'] ?? []).map((p: { PolicyDocument: unknown }) => p.PolicyDocument),
      ),
    ];
    return docs.flatMap(statementsOf);
  }

  /** `lookup API /v1/GET/files/* execute-api:Invoke` for each route whose roles include `role`. */
  const routeGrants = (role: LookupRole) =>
    LOOKUP_ROUTES.filter((r) => (r.roles as readonly LookupRole[]).includes(role)).map(
      (r) => `lookup API /v1/${r.method}${r.resource.replace(/\{[^}]+\}/g, '*')} execute-api:Invoke`,
    );

  /** The explicit Deny on the access trail's partitions every other writer of the index table carries. */
  const NO_TRAIL_WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'].map(
    (a) => `Deny index table dynamodb:${a} if {"ForAnyValue:StringLike":{"dynamodb:LeadingKeys":["TRAIL#*"]}}`,
  );

  const LOGS_AND_TRACES = (fn: 'ingest' | 'lookup' | 'webhook' | 'export' | 'fixity' | PollerSource) => [
    `${fn} log group logs:CreateLogStream`,
    `${fn} log group logs:PutLogEvents`,
    '* xray:PutTelemetryRecords',
    '* xray:PutTraceSegments',
  ];

  /** The whole of what the app grants, for the default and a customised configuration alike. */
  const EXPECTED: Record<string, string[]> = {
    'ingest role': [
      ...LOGS_AND_TRACES('ingest'),
      // The writer: PutObject and multipart (Create, UploadPart, Complete need s3:PutObject), Abort.
      'archive objects s3:PutObject',
      'archive objects s3:AbortMultipartUpload',
      // Re-hashing an object a crashed attempt committed: its current version, no VersionId.
      'archive objects s3:GetObject',
      // Only listings under the archive layout: ingest asks whether a file's key holds an object.
      'archive bucket s3:ListBucket if {"StringLike":{"s3:prefix":"archive/*"}}',
      // S3 (data keys to write, Decrypt for parts and reads) and DynamoDB (the table key).
      'archive key kms:Decrypt',
      'archive key kms:GenerateDataKey',
      'index table dynamodb:GetItem',
      'index table dynamodb:PutItem',
      'index table dynamodb:UpdateItem',
      // Legal holds: a matter's sweep reads its scope through the creator, creator-email, project and
      // month indexes and a chat's listings (a Scan only for a window open at its start), the active
      // matters are one Query of their own partition, and a version's legal hold is turned on and off
      // under the archive layout only.
      'index table dynamodb:Scan',
      'index search-creator dynamodb:Query',
      'index search-creator-email dynamodb:Query',
      'index search-project dynamodb:Query',
      'index search-month dynamodb:Query',
      'index table dynamodb:Query if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["CHAT#*"]}}',
      'index table dynamodb:Query if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["MATTER"]}}',
      'archive keys s3:PutObjectLegalHold',
      ...NO_TRAIL_WRITES,
      // The event source mapping polls with these; the core hands a message back (visibility) or
      // defers a job by sending a delayed copy to the same queue.
      'ingest queue sqs:ReceiveMessage',
      'ingest queue sqs:DeleteMessage',
      'ingest queue sqs:GetQueueAttributes',
      'ingest queue sqs:ChangeMessageVisibility',
      'ingest queue sqs:SendMessage',
      // Receiving from and sending to the queues, and reading the secret, all under the pipeline key.
      'pipeline key kms:Decrypt',
      'pipeline key kms:GenerateDataKey',
      'dead-letter queue sqs:SendMessage',
      'upstream key secret secretsmanager:GetSecretValue',
    ],
    'lookup role': [
      ...LOGS_AND_TRACES('lookup'),
      // Presigned downloads of one exact version (GetObject for a record without a version id).
      'archive objects s3:GetObject',
      'archive objects s3:GetObjectVersion',
      'archive key kms:Decrypt',
      'index table dynamodb:GetItem',
      // The upstream deletions of a file and its chats, in one call.
      'index table dynamodb:BatchGetItem',
      // A chat's files; the discovery ledger; the legal-hold matters.
      'index table dynamodb:Query',
      // A fixity check on demand records its event on the file item and its chat listings.
      'index table dynamodb:UpdateItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["FILE#*"]}}',
      'index table dynamodb:PutItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["CHAT#*"]}}',
      // Placing and releasing a legal-hold matter: its own item only.
      'index table dynamodb:PutItem if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["MATTER"]}}',
      'index table dynamodb:UpdateItem if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["MATTER"]}}',
      // A matter's sweep is queued on the ingest queue, under the pipeline key.
      'ingest queue sqs:SendMessage',
      'pipeline key kms:Decrypt',
      'pipeline key kms:GenerateDataKey',
      // Search and the access trail: each index by name.
      ...ALL_INDEXES.map((i) => `index ${i.name} dynamodb:Query`),
      // The access trail: create events on TRAIL# partitions, nothing else.
      'index table dynamodb:PutItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["TRAIL#*"]}}',
      // Exports: create a job and mark it failed when it could not be queued, on EXPORT# items only
      // (reading a job is the GetItem above); queue it; sign the download link of its bag.
      'index table dynamodb:PutItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["EXPORT#*"]}}',
      'index table dynamodb:UpdateItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["EXPORT#*"]}}',
      'export queue sqs:SendMessage',
      'export keys s3:GetObject',
    ],
    'export worker role': [
      ...LOGS_AND_TRACES('export'),
      // The scope: file items (GetItem), a chat's listings and the discovery ledger (Query), the
      // whole-archive scope (Scan); the table key.
      'index table dynamodb:GetItem',
      'index table dynamodb:Query',
      'index table dynamodb:Scan',
      'archive key kms:Decrypt',
      // Its jobs: lease, progress, result; EXPORT# items only.
      'index table dynamodb:UpdateItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["EXPORT#*"]}}',
      // The custody report: upstream deletions of a file and its chats, in one call.
      'index table dynamodb:BatchGetItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["DELETION#*"]}}',
      // The custody report's access trail: the events naming a file, on the trail's file index only (the
      // matters it names are GetItem/Query of the MATTER partition, under the table grants above).
      'index trail-file dynamodb:Query',
      // The files of a scope naming users, projects or a closed window (shared/export/candidate-reads.ts).
      'index search-creator dynamodb:Query',
      'index search-creator-email dynamodb:Query',
      'index search-project dynamodb:Query',
      'index search-month dynamodb:Query',
      // Reads archived versions under the archive layout; never writes the archive.
      'archive keys s3:GetObject',
      'archive keys s3:GetObjectVersion',
      // Writes its bags and checkpoints (multipart needs s3:PutObject), reads checkpoints back,
      // lists an export's checkpoints under the exports prefix only; the archive key encrypts them.
      'export keys s3:PutObject',
      'export keys s3:GetObject',
      'export keys s3:AbortMultipartUpload',
      'exports bucket s3:ListBucket if {"StringLike":{"s3:prefix":"exports/*"}}',
      'archive key kms:GenerateDataKey',
      // The event source mapping polls with these; a run that reaches its deadline queues the next.
      'export queue sqs:ReceiveMessage',
      'export queue sqs:DeleteMessage',
      'export queue sqs:GetQueueAttributes',
      'export queue sqs:ChangeMessageVisibility',
      'export queue sqs:SendMessage',
      'pipeline key kms:Decrypt',
      'pipeline key kms:GenerateDataKey',
    ],
    'fixity role': [
      ...LOGS_AND_TRACES('fixity'),
      // HeadObject (cheap tier) and GetObject (deep tier) of an exact archived version, decrypted.
      'archive keys s3:GetObject',
      'archive keys s3:GetObjectVersion',
      'archive key kms:Decrypt',
      // The pass: a Scan page per step (Scan names no partition key, so no LeadingKeys condition).
      'index table dynamodb:Scan',
      // As the lookup's verify: read the file item, record the event on it, rewrite its chat listings.
      'index table dynamodb:GetItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["FILE#*"]}}',
      'index table dynamodb:UpdateItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["FILE#*"]}}',
      'index table dynamodb:PutItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["CHAT#*"]}}',
      // Its checkpoint: one item of its own partition.
      'index table dynamodb:GetItem if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["FIXITY"]}}',
      'index table dynamodb:PutItem if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["FIXITY"]}}',
    ],
    'webhook role': [
      ...LOGS_AND_TRACES('webhook'),
      // The shared upstream budget's items only (chat fan-out), and the table key.
      ...['GetItem', 'PutItem', 'UpdateItem'].map(
        (a) => `index table dynamodb:${a} if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["BUDGET#*"]}}`,
      ),
      // A chat it could not read to its end, left for the chat poller: put only.
      'index table dynamodb:PutItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["CHATREQ#chats"]}}',
      'archive key kms:Decrypt',
      // Replay ids: conditional puts, a failed claim read back; the replay table is under the pipeline key.
      'replay table dynamodb:PutItem',
      'replay table dynamodb:GetItem',
      'ingest queue sqs:SendMessage',
      'pipeline key kms:Decrypt',
      'pipeline key kms:GenerateDataKey',
      'webhook secret secretsmanager:GetSecretValue',
      'upstream key secret secretsmanager:GetSecretValue',
    ],
    ...Object.fromEntries(
      POLLERS.map((source) => [
        `${source} poller role`,
        [
          ...LOGS_AND_TRACES(source),
          // The budget and what its use case keeps (chat checkpoints, seen activities, deletions):
          // single-item reads and conditional writes, on the partitions the poller registry names for it only.
          ...['GetItem', 'PutItem', 'UpdateItem'].map(
            (a) =>
              `index table dynamodb:${a} if ` +
              JSON.stringify({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': POLLER_ITEM_KEYS[source] } }),
          ),
          // Its own lease and checkpoint, exactly its partition (no other poller's).
          ...['GetItem', 'PutItem', 'UpdateItem'].map(
            (a) =>
              `index table dynamodb:${a} if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["POLLER#` +
              `${source}"]}}`,
          ),
          // Its own ledger, written once: PutItem only (no UpdateItem, no DeleteItem), exactly its partition.
          `index table dynamodb:PutItem if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["LEDGER#${source}"]}}`,
          // The Files API and projects pollers ask whether a page's files are final: file items only, in batches.
          ...(source === 'files_api' || source === 'projects'
            ? ['index table dynamodb:BatchGetItem if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["FILE#*"]}}']
            : []),
          // The chat poller's work lists (its retry list, the webhook's unfinished chat requests): exact partitions.
          ...(source === 'chats'
            ? ['RETRY#chats', 'CHATREQ#chats'].flatMap((list) =>
                ['Query', 'PutItem', 'DeleteItem'].map(
                  (a) =>
                    `index table dynamodb:${a} if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${list}"]}}`,
                ),
              )
            : []),
          'archive key kms:Decrypt',
          // Jobs (SendMessageBatch is authorized as sqs:SendMessage), encrypted under the pipeline key.
          'ingest queue sqs:SendMessage',
          'pipeline key kms:Decrypt',
          'pipeline key kms:GenerateDataKey',
          // The upstream key, read at cold start.
          'upstream key secret secretsmanager:GetSecretValue',
        ],
      ]),
    ),
    'API Gateway logging role': ['attaches AWS managed policy service-role/AmazonAPIGatewayPushToCloudWatchLogs'],
    // The role policies: execute-api:Invoke on the routes that list the role (shared/contracts/lookup-routes.ts;
    // test/infra/role-policies.test.ts runs them through the IAM policy simulator route by route).
    'auditor policy': routeGrants('auditor'),
    'legal admin policy': routeGrants('legalAdmin'),
    'operator policy': [
      ...routeGrants('operator'),
      // status, dlq list / redrive, reindex (see the operator policy in infra/service-stack.ts).
      'index table dynamodb:GetItem',
      'index table dynamodb:PutItem',
      'index table dynamodb:UpdateItem',
      'index table dynamodb:Scan',
      ...NO_TRAIL_WRITES,
      'archive key kms:Decrypt',
      'ingest queue sqs:GetQueueAttributes',
      'ingest queue sqs:SendMessage',
      'dead-letter queue sqs:GetQueueAttributes',
      'dead-letter queue sqs:ReceiveMessage',
      'dead-letter queue sqs:ChangeMessageVisibility',
      'dead-letter queue sqs:DeleteMessage',
      'pipeline key kms:Decrypt',
      'pipeline key kms:GenerateDataKey',
    ],
    'job producer policy': [
      'ingest queue sqs:SendMessage',
      'pipeline key kms:Decrypt',
      'pipeline key kms:GenerateDataKey',
    ],
  };

  describe('least privilege', () => {
    it('no identity policy allows a wildcard action ("*", "s3:*", "kms:GenerateDataKey*", …)', () => {
      const statements = allIdentityStatements();
      expect(statements.length).toBeGreaterThan(0);
      const wildcards = statements
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) => asArray(s.Action))
        .filter((a) => a.includes('*'));
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
      for (const fn of [
        app.service.ingest,
        app.service.lookup,
        app.service.webhook.function,
        app.service.fixity.function,
        ...Object.values(app.service.discovery.functions),
      ]) {
        const role = resourcesOf(t, 'AWS::IAM::Role')[logicalIdOf(fn.role)];
        expect(role?.Properties['ManagedPolicyArns']).toBeUndefined();
      }
    });

    it('every role and managed policy of the app is one of those pinned below, whatever the configuration', () => {
      expect(Object.keys(grantsByPrincipal(app)).sort()).toEqual(Object.keys(EXPECTED).sort());
      expect(Object.keys(grantsByPrincipal(custom)).sort()).toEqual(Object.keys(EXPECTED).sort());
    });

    for (const principal of Object.keys(EXPECTED)) {
      const title = [
        `the ${principal} holds exactly its listed grants,`,
        'each on its own resource, whatever the configuration',
      ].join(' ');
      it(title, () => {
        const expected = [...(EXPECTED[principal] ?? [])].sort();
        expect(grantsByPrincipal(app)[principal]).toEqual(expected);
        expect(grantsByPrincipal(custom)[principal]).toEqual(expected);
      });
    }

    it(
      'bucket policies allow nothing but S3 log delivery from the ' + 'archive and exports buckets into the log bucket',
      () => {
        const allows = Object.values(resourcesOf(app.dataTemplate, 'AWS::S3::BucketPolicy'))
          .flatMap((p) => statementsOf(p.Properties['PolicyDocument']))
          .filter((s) => s.Effect === 'Allow');
        const delivery = (bucket: IConstruct) =>
          expect.objectContaining({
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Condition: expect.objectContaining({
              ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalIdOf(bucket), 'Arn'] } },
            }),
          });
        expect(allows).toEqual([delivery(app.data.archive.bucket), delivery(app.data.exports.bucket)]);
      },
    );
  });
}

const POLLERS: readonly PollerSource[] = POLLER_SOURCES;

/**
 * The partitions by prefix each poller may read and write, spelled out (the registry must produce
 * exactly these); its own POLLER# and LEDGER# partitions are granted by exact value, above.
 */
const POLLER_ITEM_KEYS: Record<PollerSource, string[]> = {
  chats: ['BUDGET#*', 'CHATCP#*', 'DELETION#*'],
  activities: ['BUDGET#*', 'ACTIVITY#*', 'DELETION#*'],
  files_api: ['BUDGET#*'],
  // Deletions of projects deleted in the app.
  projects: ['BUDGET#*', 'DELETION#*'],
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
