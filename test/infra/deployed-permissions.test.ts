import { once } from 'node:events';
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { MATTER_PARTITION } from '../../shared/contracts/table-keys.js';
import { SecretsManagerReader } from '../../shared/platform/secrets-manager-reader.js';
import {
  type RecordedCall,
  type ResourceBindings,
  recordCallsOf,
  takeUncheckedCalls,
} from '../support/permissions/aws-call-recorder.js';
import { DISCOVERY_SOURCES, POLLER_SOURCES } from '../../shared/contracts/discovery-sources.js';
import {
  pollerPrincipal,
  synthesizeDeployedPermissions,
  type PrincipalName,
} from '../support/permissions/deployed-permissions.js';
import { checkCalls } from '../support/permissions/permission-check.js';
import { leadingKeysOf, PARTITION_KEY_OF } from '../support/permissions/dynamodb-leading-keys.js';

// The checker the integration suite runs after every test (test/support/permission-setup.ts), shown
// here to allow what the roles hold and to refuse what they do not, so a pass there means something.
const deployed = synthesizeDeployedPermissions();
const bindings: ResourceBindings = {
  buckets: { 'local-bucket': 'archiveBucket' },
  tables: { 'local-table': 'indexTable' },
  queues: { 'local-queue': 'ingestQueue', 'local-dlq': 'deadLetterQueue' },
  secrets: { 'local-secret': 'upstreamApiKey' },
};
const QUEUE = 'http://127.0.0.1:1/000000000000/local-queue';
const DLQ = 'http://127.0.0.1:1/000000000000/local-dlq';

function call(
  principal: PrincipalName,
  service: string,
  operation: string,
  target: Record<string, unknown>,
  outcome: RecordedCall['outcome'] = 'ok',
): RecordedCall {
  return { principal, service, operation, target, bindings, outcome, via: undefined };
}
const object = { Bucket: 'local-bucket', Key: 'archive/generated/file_1' };
/** A DynamoDB call's target on `table` touching the partitions `pks`, as the recorder records it. */
const items = (pks: string[], table = 'local-table', extra: Record<string, unknown> = {}) => ({
  TableName: table,
  LeadingKeys: { [table]: pks },
  ...extra,
});
const FILE = 'FILE#file_1';

describe('deployed permission checks', () => {
  it(
    'resolve every template reference: the functions are configured ' + 'with the resources their roles are granted',
    () => {
      const { ingest, lookup } = deployed.principals;
      const r = deployed.resources;
      expect(ingest.environment).toMatchObject({
        ARCHIVE_BUCKET: r.archiveBucket.name,
        INDEX_TABLE: r.indexTable.name,
        INGEST_QUEUE_URL: `https://sqs.${deployed.region}.amazonaws.com/${deployed.account}/${r.ingestQueue.name}`,
        DEAD_LETTER_QUEUE_URL:
          `https://sqs.${deployed.region}.amazonaws.com/` + `${deployed.account}/${r.deadLetterQueue.name}`,
        ANTHROPIC_API_KEY_SECRET_ARN: r.upstreamApiKey.arn,
      });
      expect(lookup.environment).toMatchObject({
        ARCHIVE_BUCKET: r.archiveBucket.name,
        INDEX_TABLE: r.indexTable.name,
      });
      for (const resource of Object.values(r))
        expect(resource.keyArn).toMatch(/^arn:aws:kms:us-east-1:111122223333:key\//);
    },
  );

  it('allow what the ingest path does: write the archive, index it, defer and dead-letter jobs', async () => {
    const result = await checkCalls(
      [
        call('ingest', 'S3', 'PutObject', object),
        call('ingest', 'S3', 'CreateMultipartUpload', object),
        call('ingest', 'S3', 'UploadPart', object),
        call('ingest', 'S3', 'CompleteMultipartUpload', object),
        call('ingest', 'S3', 'AbortMultipartUpload', object),
        call('ingest', 'S3', 'GetObject', object),
        call('ingest', 'DynamoDB', 'UpdateItem', items([FILE])),
        call('ingest', 'SQS', 'ChangeMessageVisibility', { QueueUrl: QUEUE }),
        call('ingest', 'SQS', 'SendMessage', { QueueUrl: DLQ }),
      ],
      deployed,
    );
    expect(result.denials).toEqual([]);
    // S3, DynamoDB and SQS each use their customer-managed key on the caller's behalf.
    expect(result.used.filter((u) => u.action.startsWith('kms:')).map((u) => u.action)).toEqual(
      expect.arrayContaining(['kms:GenerateDataKey', 'kms:Decrypt']),
    );
  });

  it(
    'allow the ingest function to read the upstream key secret its ' +
      'environment names, through the secret\u2019s key',
    async () => {
      const secretArn = deployed.principals.ingest.environment?.['ANTHROPIC_API_KEY_SECRET_ARN'] ?? '';
      const result = await checkCalls(
        [
          {
            ...call('ingest', 'SecretsManager', 'GetSecretValue', { SecretId: secretArn }),
            bindings: { secrets: { [secretArn]: 'upstreamApiKey' } },
          },
        ],
        deployed,
      );
      expect(result.denials).toEqual([]);
      expect(result.used.map((u) => u.action)).toEqual(['secretsmanager:GetSecretValue', 'kms:Decrypt']);
    },
  );

  it(
    'see the functions\u2019 own secret read (no SDK client) as GetSecretValue: allowed to ingest, ' +
      'refused to a role without the grant',
    async () => {
      // Arrange: the reader the Lambdas use, against a loopback Secrets Manager, recorded for two roles
      const secretArn = deployed.principals.ingest.environment?.['ANTHROPIC_API_KEY_SECRET_ARN'] ?? '';
      const server = createServer((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ ARN: secretArn, SecretString: 'sk-ant-test' }));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      const readAs = async (principal: PrincipalName) => {
        const reader = new SecretsManagerReader({
          region: 'us-east-1',
          credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
          endpoint: `http://127.0.0.1:${address.port}`,
        });
        recordCallsOf(reader, principal, { secrets: { [secretArn]: 'upstreamApiKey' } });
        takeUncheckedCalls();
        await reader.secretString(secretArn);
        await reader.close();
        return takeUncheckedCalls();
      };

      try {
        // Act
        const byIngest = await checkCalls(await readAs('ingest'), deployed);
        const byLookup = await checkCalls(await readAs('lookup'), deployed);

        // Assert
        expect(byIngest.denials).toEqual([]);
        expect(byIngest.used.map((u) => u.action)).toEqual(['secretsmanager:GetSecretValue', 'kms:Decrypt']);
        expect(byLookup.denials.join('\n')).toMatch(/secretsmanager:GetSecretValue/);
      } finally {
        server.close();
      }
    },
  );

  it(
    'allow a legal hold sweep its reads of a scope: the creator, creator-email, project and month ' +
      'indexes, a chat\u2019s listings, the matters, file items, and the Scan of a window open at its start',
    async () => {
      const index = (name: string, partition: string) => items([partition], 'local-table', { IndexName: name });
      const result = await checkCalls(
        [
          call('ingest', 'DynamoDB', 'Query', index('search-creator', 'user_01Alice')),
          call('ingest', 'DynamoDB', 'Query', index('search-creator-email', 'alice@example.com')),
          call('ingest', 'DynamoDB', 'Query', index('search-project', 'claude_proj_01P')),
          call('ingest', 'DynamoDB', 'Query', index('search-month', '2026-01')),
          call('ingest', 'DynamoDB', 'Query', items(['CHAT#chat_1'])),
          call('ingest', 'DynamoDB', 'Query', items(['MATTER'])),
          call('ingest', 'DynamoDB', 'GetItem', items([FILE])),
          call('ingest', 'DynamoDB', 'Scan', { TableName: 'local-table' }),
        ],
        deployed,
      );
      expect(result.denials).toEqual([]);
    },
  );

  it(
    'refuse the ingest role what its code never does: query other partitions and indexes, ' +
      'read a given version, list parts, look a queue up',
    async () => {
      const result = await checkCalls(
        [
          call('ingest', 'DynamoDB', 'Query', items([FILE])),
          call('ingest', 'DynamoDB', 'Query', items(['POLLER#chats'])),
          call('ingest', 'DynamoDB', 'Query', items(['abc'], 'local-table', { IndexName: 'search-sha256' })),
          call('ingest', 'DynamoDB', 'Query', items(['p'], 'local-table', { IndexName: 'trail-principal' })),
          call('ingest', 'S3', 'GetObject', { ...object, VersionId: 'v1' }),
          call('ingest', 'S3', 'ListParts', object),
          call('ingest', 'SQS', 'GetQueueUrl', { QueueName: 'local-queue' }),
          call('jobProducer', 'SQS', 'GetQueueUrl', { QueueName: 'local-queue' }),
        ],
        deployed,
      );
      expect(result.denials).toEqual([
        expect.stringMatching(/ingest role is not allowed dynamodb:Query on arn:aws:dynamodb:.* of FILE#file_1$/),
        expect.stringMatching(/ingest role is not allowed dynamodb:Query on arn:aws:dynamodb:.* of POLLER#chats$/),
        expect.stringMatching(/ingest role is not allowed dynamodb:Query on arn:aws:dynamodb:.*index\/search-sha256/),
        expect.stringMatching(/ingest role is not allowed dynamodb:Query on arn:aws:dynamodb:.*index\/trail-principal/),
        expect.stringMatching(/ingest role is not allowed s3:GetObjectVersion on arn:aws:s3:::/),
        expect.stringMatching(/ingest role is not allowed s3:ListMultipartUploadParts on arn:aws:s3:::/),
        expect.stringMatching(/ingest role is not allowed sqs:GetQueueUrl on arn:aws:sqs:/),
        expect.stringMatching(/jobProducer role is not allowed sqs:GetQueueUrl on arn:aws:sqs:/),
      ]);
    },
  );

  it(
    'allow each poller its items, its jobs and its secret, and refuse ' +
      "it queries, batch reads (the Files API poller's of anything " +
      'but file items) and the archive',
    async () => {
      for (const source of POLLER_SOURCES) {
        const poller = pollerPrincipal(source);
        // Only the pollers the registry gives batch reads (the Files API and projects pollers: whether a
        // listing page's files are final) batch-read.
        const batchReads = DISCOVERY_SOURCES[source].tableKeyPrefixes.batchGet.length > 0;
        const batchRead = call(poller, 'DynamoDB', 'BatchGetItem', {
          Tables: ['local-table'],
          LeadingKeys: { 'local-table': [FILE, 'FILE#file_2'] },
        });
        // Every partition the registry names for it by prefix, and its own lease and checkpoint
        // partition, with every single-item action; its own ledger with PutItem.
        const own = DISCOVERY_SOURCES[source].tableKeyPrefixes.items.map((prefix) => `${prefix}${source}_1`);
        const allowed = await checkCalls(
          [
            ...['GetItem', 'PutItem', 'UpdateItem'].flatMap((op) => [
              call(poller, 'DynamoDB', op, items(own)),
              call(poller, 'DynamoDB', op, items([`POLLER#${source}`])),
            ]),
            call(poller, 'DynamoDB', 'PutItem', items([`LEDGER#${source}`])),
            call(poller, 'DynamoDB', 'PutItem', items(['BUDGET#compliance'])),
            call(poller, 'SQS', 'SendMessageBatch', { QueueUrl: QUEUE }),
            call(poller, 'SecretsManager', 'GetSecretValue', { SecretId: 'local-secret' }),
            ...(batchReads ? [batchRead] : []),
          ],
          deployed,
        );
        expect(allowed.denials, source).toEqual([]);
        const refused = await checkCalls(
          [
            call(poller, 'DynamoDB', 'Query', items(['CHAT#chat_1'])),
            // No poller writes a file's record or a chat's listing: that is ingest's.
            call(poller, 'DynamoDB', 'UpdateItem', items([FILE])),
            call(poller, 'DynamoDB', 'PutItem', items(['CHAT#chat_1'])),
            // Other pollers may not batch-read at all; those that do, only file items.
            batchReads
              ? call(poller, 'DynamoDB', 'BatchGetItem', {
                  Tables: ['local-table'],
                  LeadingKeys: { 'local-table': [FILE, 'BUDGET#compliance'] },
                })
              : batchRead,
            call(poller, 'S3', 'GetObject', object),
            call(poller, 'SQS', 'SendMessage', { QueueUrl: DLQ }),
          ],
          deployed,
        );
        expect(refused.denials, source).toEqual([
          expect.stringMatching(new RegExp(`${poller} role is not allowed dynamodb:Query on arn:aws:dynamodb:`)),
          expect.stringMatching(new RegExp(`${poller} role is not allowed dynamodb:UpdateItem on .* of FILE#file_1$`)),
          expect.stringMatching(new RegExp(`${poller} role is not allowed dynamodb:PutItem on .* of CHAT#chat_1$`)),
          expect.stringMatching(new RegExp(`${poller} role is not allowed dynamodb:BatchGetItem on arn:aws:dynamodb:`)),
          expect.stringMatching(new RegExp(`${poller} role is not allowed s3:GetObject on arn:aws:s3:::`)),
          expect.stringMatching(
            new RegExp(`${poller} role is not allowed sqs:SendMessage on arn:aws:sqs:.*DeadLetterQueue`),
          ),
        ]);
      }
    },
  );

  it(
    "refuse each poller another poller's lease, checkpoint and ledger, " +
      "and any rewrite of its own ledger's write-once records",
    async () => {
      for (const source of POLLER_SOURCES) {
        const poller = pollerPrincipal(source);
        const other = POLLER_SOURCES.find((s) => s !== source) ?? source;
        const result = await checkCalls(
          [
            // Another poller's lease and checkpoint: it could take its lease or move its cursor.
            call(poller, 'DynamoDB', 'PutItem', items([`POLLER#${other}`])),
            call(poller, 'DynamoDB', 'UpdateItem', items([`POLLER#${other}`])),
            // Another poller's ledger: it could forge or overwrite its runs.
            call(poller, 'DynamoDB', 'PutItem', items([`LEDGER#${other}`])),
            call(poller, 'DynamoDB', 'UpdateItem', items([`LEDGER#${other}`])),
            // Its own ledger records are evidence written once: no update, no delete, no read either.
            call(poller, 'DynamoDB', 'UpdateItem', items([`LEDGER#${source}`])),
            call(poller, 'DynamoDB', 'DeleteItem', items([`LEDGER#${source}`])),
            // Its own partitions are exact values: a longer key with its name as a prefix is another partition.
            call(poller, 'DynamoDB', 'UpdateItem', items([`POLLER#${source}X`])),
            call(poller, 'DynamoDB', 'PutItem', items([`LEDGER#${source}X`])),
            // One call touching its own partition and another's is refused whole (ForAllValues).
            call(poller, 'DynamoDB', 'GetItem', items([`POLLER#${source}`, `POLLER#${other}`])),
          ],
          deployed,
        );
        expect(result.denials, source).toEqual([
          expect.stringMatching(new RegExp(`${poller} role is not allowed dynamodb:PutItem on .* of POLLER#${other}$`)),
          expect.stringMatching(
            new RegExp(`${poller} role is not allowed dynamodb:UpdateItem on .* of POLLER#${other}$`),
          ),
          expect.stringMatching(new RegExp(`${poller} role is not allowed dynamodb:PutItem on .* of LEDGER#${other}$`)),
          expect.stringMatching(
            new RegExp(`${poller} role is not allowed dynamodb:UpdateItem on .* of LEDGER#${other}$`),
          ),
          expect.stringMatching(
            new RegExp(`${poller} role is not allowed dynamodb:UpdateItem on .* of LEDGER#${source}$`),
          ),
          expect.stringMatching(
            new RegExp(`${poller} role is not allowed dynamodb:DeleteItem on .* of LEDGER#${source}$`),
          ),
          expect.stringMatching(
            new RegExp(`${poller} role is not allowed dynamodb:UpdateItem on .* of POLLER#${source}X$`),
          ),
          expect.stringMatching(
            new RegExp(`${poller} role is not allowed dynamodb:PutItem on .* of LEDGER#${source}X$`),
          ),
          expect.stringMatching(new RegExp(`${poller} role is not allowed dynamodb:GetItem on .* of POLLER#${source}`)),
        ]);
      }
    },
  );

  it(
    'allow the chat poller its work lists (retry list, webhook chat ' +
      'requests) by exact partition, and no other poller',
    async () => {
      const listCalls = (poller: ReturnType<typeof pollerPrincipal>) =>
        ['RETRY#chats', 'CHATREQ#chats'].flatMap((pk) =>
          ['Query', 'PutItem', 'DeleteItem'].map((op) => call(poller, 'DynamoDB', op, items([pk]))),
        );
      expect((await checkCalls(listCalls(pollerPrincipal('chats')), deployed)).denials).toEqual([]);
      const refused = await checkCalls(
        [
          call(pollerPrincipal('chats'), 'DynamoDB', 'Query', items(['RETRY#chatsX'])),
          call(pollerPrincipal('chats'), 'DynamoDB', 'DeleteItem', items([FILE])),
          ...listCalls(pollerPrincipal('activities')).slice(0, 1),
        ],
        deployed,
      );
      expect(refused.denials).toHaveLength(3);
    },
  );

  it('refuse what a role does not hold, naming the action, the ARN and the call', async () => {
    const result = await checkCalls(
      [
        call('lookup', 'S3', 'PutObject', object),
        // (A file item it may update: a fixity check's event. Nothing else.)
        call('lookup', 'DynamoDB', 'UpdateItem', items(['POLLER#chats'])),
        call('lookup', 'SQS', 'ReceiveMessage', { QueueUrl: QUEUE }),
        call('jobProducer', 'SQS', 'SendMessage', { QueueUrl: DLQ }),
      ],
      deployed,
    );
    expect(result.denials).toEqual([
      expect.stringMatching(
        /lookup role is not allowed s3:PutObject on arn:aws:s3:::claude-file-archiver-dev-111122223333-us-east-1\/archive\/generated\/file_1 .*S3 PutObject/,
      ),
      expect.stringMatching(/lookup role is not allowed kms:GenerateDataKey on arn:aws:kms:/),
      expect.stringMatching(
        /lookup role is not allowed dynamodb:UpdateItem on arn:aws:dynamodb:us-east-1:111122223333:table\//,
      ),
      // (kms:Decrypt on the pipeline key it holds: it sends legal-hold work to the queue.)
      expect.stringMatching(/lookup role is not allowed sqs:ReceiveMessage on arn:aws:sqs:/),
      expect.stringMatching(/jobProducer role is not allowed sqs:SendMessage on arn:aws:sqs:.*DeadLetterQueue/),
    ]);
  });

  it('require s3:ListBucket for a read that relied on S3 answering 404 for a missing key', async () => {
    const found = await checkCalls([call('ingest', 'S3', 'HeadObject', object, 'ok')], deployed);
    expect(found.denials).toEqual([]);
    const missing = await checkCalls([call('ingest', 'S3', 'HeadObject', object, 'not-found')], deployed);
    // The ingest role's s3:ListBucket is scoped to listings under the archive layout (s3:prefix),
    // which a read does not carry: it does not make a missing key answer 404.
    expect(missing.denials).toEqual([
      expect.stringMatching(
        /ingest role is not allowed s3:ListBucket on arn:aws:s3:::claude-file-archiver-dev-111122223333-us-east-1 /,
      ),
    ]);
  });

  it('allow the ingest role to list exactly a key under the archive layout, and nothing else', async () => {
    const list = (Prefix?: string) =>
      call('ingest', 'S3', 'ListObjectsV2', { Bucket: 'local-bucket', ...(Prefix === undefined ? {} : { Prefix }) });
    expect((await checkCalls([list(object.Key)], deployed)).denials).toEqual([]);
    for (const prefix of ['other/', '', undefined]) {
      expect((await checkCalls([list(prefix)], deployed)).denials).toEqual([
        expect.stringMatching(/ingest role is not allowed s3:ListBucket/),
      ]);
    }
    expect((await checkCalls([{ ...list(object.Key), principal: 'lookup' }], deployed)).denials).toHaveLength(1);
  });

  it('refuse a call on a resource that stands for nothing deployed, and a call nobody has described', async () => {
    const result = await checkCalls(
      [
        call('ingest', 'DynamoDB', 'GetItem', items([FILE], 'some-other-table')),
        call('ingest', 'S3', 'PutBucketPolicy', { Bucket: 'local-bucket' }),
      ],
      deployed,
    );
    expect(result.denials).toEqual([
      expect.stringMatching(/on table "some-other-table", which stands for no resource of the deployed stack/),
      expect.stringMatching(/S3 PutBucketPolicy: the permission checks do not know which IAM actions this call needs/),
    ]);
  });

  it('read the partition key each deployed table is keyed by, which the recorder reads from the contracts', () => {
    const tables = Object.entries(deployed.resources).filter(([, r]) => r.partitionKey !== undefined);
    expect(tables.map(([name, r]) => [name, r.partitionKey])).toEqual([
      ['indexTable', PARTITION_KEY_OF.indexTable],
      ['webhookReplayTable', PARTITION_KEY_OF.webhookReplayTable],
    ]);
  });

  it('record the partition keys each DynamoDB operation touches, as dynamodb:LeadingKeys', () => {
    const pk = (table: string) => (table === 't' ? 'pk' : undefined);
    expect(leadingKeysOf('GetItem', { TableName: 't', Key: { pk: 'BUDGET#a', sk: 'STATE' } }, pk)).toEqual({
      byTable: { t: ['BUDGET#a'] },
    });
    expect(
      leadingKeysOf(
        'PutItem',
        { TableName: 't', Item: { pk: { S: 'FILE#f' }, sk: { S: 'FILE' }, body: { S: 'x' } } },
        pk,
      ),
    ).toEqual({ byTable: { t: ['FILE#f'] } });
    expect(
      leadingKeysOf(
        'Query',
        {
          TableName: 't',
          KeyConditionExpression: '#p = :p AND begins_with(sk, :s)',
          ExpressionAttributeNames: { '#p': 'pk' },
          ExpressionAttributeValues: { ':p': 'CHAT#c', ':s': 'F#' },
        },
        pk,
      ),
    ).toEqual({ byTable: { t: ['CHAT#c'] } });
    expect(
      leadingKeysOf(
        'Query',
        {
          TableName: 't',
          KeyConditionExpression: 'sk > :s AND pk = :p',
          ExpressionAttributeValues: { ':p': 'CHAT#c', ':s': 'F#' },
        },
        pk,
      ),
    ).toEqual({
      byTable: { t: ['CHAT#c'] },
    });
    expect(
      leadingKeysOf(
        'BatchGetItem',
        {
          RequestItems: {
            t: {
              Keys: [
                { pk: 'A', sk: '1' },
                { pk: 'B', sk: '1' },
                { pk: 'A', sk: '2' },
              ],
            },
          },
        },
        pk,
      ),
    ).toEqual({ byTable: { t: ['A', 'B'] } });
    expect(
      leadingKeysOf(
        'BatchWriteItem',
        { RequestItems: { t: [{ PutRequest: { Item: { pk: 'A' } } }, { DeleteRequest: { Key: { pk: 'C' } } }] } },
        pk,
      ),
    ).toEqual({
      byTable: { t: ['A', 'C'] },
    });
    expect(
      leadingKeysOf(
        'TransactWriteItems',
        {
          TransactItems: [
            { Put: { TableName: 't', Item: { pk: 'A' } } },
            { Update: { TableName: 't', Key: { pk: 'B' } } },
          ],
        },
        pk,
      ),
    ).toEqual({
      transactItems: [['A'], ['B']],
    });
    expect(leadingKeysOf('Scan', { TableName: 't' }, pk)).toEqual({});
    expect(leadingKeysOf('GetItem', { TableName: 'unbound', Key: { pk: 'A' } }, pk)).toEqual({});
  });

  it(
    'refuse a DynamoDB item call whose partition keys were not recorded, ' +
      'rather than pass a LeadingKeys condition by default',
    async () => {
      const result = await checkCalls(
        [call('webhook', 'DynamoDB', 'UpdateItem', { TableName: 'local-table' })],
        deployed,
      );
      expect(result.denials).toEqual([
        expect.stringMatching(/DynamoDB UpdateItem on table "local-table" without the partition key values it touches/),
      ]);
    },
  );
});

describe('deployed permission checks of the webhook role', () => {
  const r = deployed.resources;
  const webhookBindings: ResourceBindings = {
    tables: { 'local-replay': 'webhookReplayTable', 'local-table': 'indexTable' },
    queues: { 'local-queue': 'ingestQueue', 'local-dlq': 'deadLetterQueue' },
    secrets: { [r.webhookSecret.arn]: 'webhookSecret', [r.upstreamApiKey.arn]: 'upstreamApiKey' },
    buckets: { 'local-bucket': 'archiveBucket' },
  };
  const webhook = (service: string, operation: string, target: Record<string, unknown>): RecordedCall => ({
    ...call('webhook', service, operation, target),
    bindings: webhookBindings,
  });

  it('is configured with the resources it is granted', () => {
    expect(deployed.principals.webhook.environment).toMatchObject({
      WEBHOOK_REPLAY_TABLE: r.webhookReplayTable.name,
      INDEX_TABLE: r.indexTable.name,
      INGEST_QUEUE_URL: `https://sqs.${deployed.region}.amazonaws.com/${deployed.account}/${r.ingestQueue.name}`,
      WEBHOOK_SECRET_ARN: r.webhookSecret.arn,
      ANTHROPIC_API_KEY_SECRET_ARN: r.upstreamApiKey.arn,
    });
  });

  it('allow what the webhook does: replay ids, the shared budget\u2019s items, jobs, its two secrets', async () => {
    const result = await checkCalls(
      [
        webhook('DynamoDB', 'PutItem', items(['msg_2Yh7'], 'local-replay')),
        webhook('DynamoDB', 'GetItem', items(['msg_2Yh7'], 'local-replay')),
        // A chat it could not read to its end, left for the chat poller.
        webhook('DynamoDB', 'PutItem', items(['CHATREQ#chats'])),
        ...['GetItem', 'PutItem', 'UpdateItem'].flatMap((op) => [
          webhook('DynamoDB', op, items(['BUDGET#compliance'])),
          webhook('DynamoDB', op, items(['BUDGET#files_api'])),
        ]),
        webhook('SQS', 'SendMessage', { QueueUrl: QUEUE }),
        webhook('SQS', 'SendMessageBatch', { QueueUrl: QUEUE }),
        webhook('SecretsManager', 'GetSecretValue', { SecretId: r.webhookSecret.arn }),
        webhook('SecretsManager', 'GetSecretValue', { SecretId: r.upstreamApiKey.arn }),
      ],
      deployed,
    );
    expect(result.denials).toEqual([]);
  });

  it(
    'refuse the webhook every partition of the index table outside ' + 'the budget\u2019s, and what it never does',
    async () => {
      const result = await checkCalls(
        [
          // The granted actions, on items the leading-keys condition keeps out of reach.
          webhook('DynamoDB', 'UpdateItem', items([FILE])),
          webhook('DynamoDB', 'GetItem', items(['CHAT#chat_1'])),
          webhook('DynamoDB', 'PutItem', items(['POLLER#chats'])),
          // A prefix is not enough: the condition is on the whole value.
          webhook('DynamoDB', 'GetItem', items(['XBUDGET#compliance'])),
          // Actions it holds on no partition.
          webhook('DynamoDB', 'Query', items(['BUDGET#compliance'])),
          webhook('DynamoDB', 'DeleteItem', items(['BUDGET#compliance'])),
          webhook('DynamoDB', 'UpdateItem', items(['msg_2Yh7'], 'local-replay')),
          webhook('SQS', 'SendMessage', { QueueUrl: DLQ }),
          webhook('S3', 'GetObject', object),
        ],
        deployed,
      );
      const table = 'arn:aws:dynamodb:us-east-1:111122223333:table/';
      expect(result.denials).toEqual([
        expect.stringMatching(
          new RegExp(
            `webhook role is not allowed dynamodb:UpdateItem on ${table}.* DynamoDB UpdateItem of FILE#file_1$`,
          ),
        ),
        expect.stringMatching(/webhook role is not allowed dynamodb:GetItem on .* of CHAT#chat_1$/),
        expect.stringMatching(/webhook role is not allowed dynamodb:PutItem on .* of POLLER#chats$/),
        expect.stringMatching(/webhook role is not allowed dynamodb:GetItem on .* of XBUDGET#compliance$/),
        expect.stringMatching(/webhook role is not allowed dynamodb:Query on /),
        expect.stringMatching(/webhook role is not allowed dynamodb:DeleteItem on /),
        expect.stringMatching(/webhook role is not allowed dynamodb:UpdateItem on .*ReplayTable/),
        expect.stringMatching(/webhook role is not allowed sqs:SendMessage on arn:aws:sqs:.*DeadLetterQueue/),
        expect.stringMatching(/webhook role is not allowed s3:GetObject on /),
      ]);
    },
  );

  it(
    'allow the operator policy what archiver status, dlq and reindex ' + 'do, and refuse it the trail and deletes',
    async () => {
      const allowed = await checkCalls(
        [
          call('operator', 'SQS', 'GetQueueAttributes', { QueueUrl: QUEUE }),
          call('operator', 'SQS', 'GetQueueAttributes', { QueueUrl: DLQ }),
          call('operator', 'SQS', 'ReceiveMessage', { QueueUrl: DLQ }),
          call('operator', 'SQS', 'ChangeMessageVisibilityBatch', { QueueUrl: DLQ }),
          call('operator', 'SQS', 'DeleteMessage', { QueueUrl: DLQ }),
          call('operator', 'SQS', 'SendMessage', { QueueUrl: QUEUE }),
          call('operator', 'DynamoDB', 'GetItem', items([FILE])),
          call('operator', 'DynamoDB', 'UpdateItem', items([FILE])),
          call('operator', 'DynamoDB', 'Scan', { TableName: 'local-table' }),
          call('operator', 'DynamoDB', 'GetItem', items(['REINDEX'])),
          call('operator', 'DynamoDB', 'PutItem', items(['REINDEX'])),
        ],
        deployed,
      );
      expect(allowed.denials).toEqual([]);
      const refused = await checkCalls(
        [
          call('operator', 'DynamoDB', 'PutItem', items(['TRAIL#2026-03-01'])),
          call('operator', 'DynamoDB', 'DeleteItem', items([FILE])),
          call('operator', 'SQS', 'ReceiveMessage', { QueueUrl: QUEUE }),
          call('auditor', 'DynamoDB', 'Scan', { TableName: 'local-table' }),
        ],
        deployed,
      );
      expect(refused.denials).toEqual([
        expect.stringMatching(/operator role is not allowed dynamodb:PutItem on .* of TRAIL#/),
        expect.stringMatching(/operator role is not allowed dynamodb:DeleteItem on /),
        expect.stringMatching(/operator role is not allowed sqs:ReceiveMessage on arn:aws:sqs:.*IngestQueue/),
        expect.stringMatching(/auditor role is not allowed dynamodb:Scan on /),
        expect.stringMatching(/auditor role is not allowed kms:Decrypt on /),
      ]);
    },
  );

  it(
    'let the lookup role append to the access trail and nothing more: ' +
      'PutItem on TRAIL# partitions only, never an update or a delete',
    async () => {
      const trail = 'TRAIL#2026-03-01';
      const allowed = await checkCalls([call('lookup', 'DynamoDB', 'PutItem', items([trail]))], deployed);
      expect(allowed.denials).toEqual([]);
      const refused = await checkCalls(
        [
          call('lookup', 'DynamoDB', 'PutItem', items([FILE])),
          call('lookup', 'DynamoDB', 'UpdateItem', items([trail])),
          call('lookup', 'DynamoDB', 'DeleteItem', items([trail])),
          call('lookup', 'DynamoDB', 'BatchWriteItem', { ...items([trail]), Tables: ['local-table'] }),
        ],
        deployed,
      );
      expect(refused.denials).toEqual([
        expect.stringMatching(/lookup role is not allowed dynamodb:PutItem on .* of FILE#file_1/),
        expect.stringMatching(/lookup role is not allowed dynamodb:UpdateItem on .* of TRAIL#/),
        expect.stringMatching(/lookup role is not allowed dynamodb:DeleteItem on .* of TRAIL#/),
        expect.stringMatching(/lookup role is not allowed dynamodb:BatchWriteItem on .* of TRAIL#/),
      ]);
    },
  );

  it(
    'allow the scheduled fixity audit its reads of archived versions, its Scan, ' +
      'its records and checkpoint, and nothing else',
    async () => {
      const fixity = (service: string, operation: string, target: Record<string, unknown>) =>
        call('fixity', service, operation, target);
      const version = { ...object, VersionId: 'v1' };
      const allowed = await checkCalls(
        [
          fixity('S3', 'HeadObject', { ...version, ChecksumMode: 'ENABLED' }),
          fixity('S3', 'GetObject', version),
          fixity('DynamoDB', 'Scan', { TableName: 'local-table' }),
          fixity('DynamoDB', 'GetItem', items([FILE])),
          fixity('DynamoDB', 'UpdateItem', items([FILE])),
          fixity('DynamoDB', 'PutItem', items(['CHAT#chat_1'])),
          fixity('DynamoDB', 'GetItem', items(['FIXITY'])),
          fixity('DynamoDB', 'PutItem', items(['FIXITY'])),
        ],
        deployed,
      );
      expect(allowed.denials).toEqual([]);
      const refused = await checkCalls(
        [
          // Granted actions on partitions the conditions keep out of reach.
          fixity('DynamoDB', 'PutItem', items([FILE])),
          fixity('DynamoDB', 'UpdateItem', items(['CHAT#chat_1'])),
          fixity('DynamoDB', 'PutItem', items(['TRAIL#2026-03-01'])),
          fixity('DynamoDB', 'GetItem', items(['POLLER#chats'])),
          fixity('DynamoDB', 'PutItem', items(['FIXITYX'])),
          // Actions it never holds.
          fixity('DynamoDB', 'DeleteItem', items([FILE])),
          fixity('DynamoDB', 'Query', items([FILE])),
          fixity('S3', 'PutObject', object),
          fixity('S3', 'GetObject', { Bucket: 'local-bucket', Key: 'exports/bag.zip' }),
        ],
        deployed,
      );
      expect(refused.denials).toEqual([
        expect.stringMatching(/fixity role is not allowed dynamodb:PutItem on .* of FILE#file_1$/),
        expect.stringMatching(/fixity role is not allowed dynamodb:UpdateItem on .* of CHAT#chat_1$/),
        expect.stringMatching(/fixity role is not allowed dynamodb:PutItem on .* of TRAIL#2026-03-01$/),
        expect.stringMatching(/fixity role is not allowed dynamodb:GetItem on .* of POLLER#chats$/),
        expect.stringMatching(/fixity role is not allowed dynamodb:PutItem on .* of FIXITYX$/),
        expect.stringMatching(/fixity role is not allowed dynamodb:DeleteItem on /),
        expect.stringMatching(/fixity role is not allowed dynamodb:Query on /),
        expect.stringMatching(/fixity role is not allowed s3:PutObject on /),
        // A write would also need the bucket key's GenerateDataKey, which the role does not hold either.
        expect.stringMatching(/fixity role is not allowed kms:GenerateDataKey on .* needed by S3 PutObject/),
        expect.stringMatching(/fixity role is not allowed s3:GetObject on .*exports\/bag\.zip/),
      ]);
    },
  );

  it('let no role or person holding a policy of the app update or delete an access trail event', async () => {
    const trail = 'TRAIL#2026-03-01';
    const principals = Object.keys(deployed.principals) as PrincipalName[];
    const result = await checkCalls(
      principals.flatMap((p) => [
        call(p, 'DynamoDB', 'UpdateItem', items([trail])),
        call(p, 'DynamoDB', 'DeleteItem', items([trail])),
      ]),
      deployed,
    );
    // Every one of these calls is refused: two denials per principal. The writers of file items and the
    // operator hold UpdateItem on the table, and an explicit Deny on TRAIL# partitions (denyTrailWrites).
    expect(result.used.filter((u) => u.action.startsWith('dynamodb:'))).toEqual([]);
    expect(result.denials.filter((d) => /not allowed dynamodb:(UpdateItem|DeleteItem) /.test(d))).toHaveLength(
      principals.length * 2,
    );
  });

  it(
    'only these carry a dynamodb:LeadingKeys condition: the webhook ' +
      "role, the pollers (their registry's partitions: see the pollers' " +
      'test), the lookup role, the export worker and the fixity audit (grants), and the trail Deny of the ' +
      'other writers (a new one needs its own test)',
    () => {
      const conditioned = Object.entries(deployed.principals)
        .filter(([, p]) =>
          p.policies.some(({ policy }) =>
            policy.Statement.some((st) => JSON.stringify(st.Condition ?? {}).includes('dynamodb:LeadingKeys')),
          ),
        )
        .map(([name]) => name);
      // The lookup role's trail grant, the webhook's budget items, the pollers' registry partitions; and
      // the Deny on the trail's partitions of the other writers of the index table (tested above).
      expect(conditioned.sort()).toEqual(
        [
          'ingest',
          'lookup',
          'webhook',
          'exportWorker',
          'fixity',
          ...POLLER_SOURCES.map(pollerPrincipal),
          'operator',
        ].sort(),
      );
    },
  );
});

describe('deployed permission checks of exports', () => {
  // The export routes and runs (test/integration/export-*.test.ts record these same calls against the
  // local servers; here each is checked on its own, with the refusals beside it).
  const exportBindings: ResourceBindings = {
    buckets: { 'local-bucket': 'archiveBucket', 'local-exports': 'exportsBucket' },
    tables: { 'local-table': 'indexTable' },
    queues: { 'local-export': 'exportQueue', 'local-queue': 'ingestQueue' },
  };
  const EXPORT_QUEUE = 'http://127.0.0.1:1/000000000000/local-export';
  const JOB = 'EXPORT#exp_0123456789abcdef0123456789abcdef';
  const bag = { Bucket: 'local-exports', Key: 'exports/exp_0123456789abcdef0123456789abcdef/export.zip' };
  const on = (c: RecordedCall): RecordedCall => ({ ...c, bindings: exportBindings });

  it('are configured: both functions name the exports bucket and the export queue their roles are granted', () => {
    const { lookup, exportWorker } = deployed.principals;
    const r = deployed.resources;
    const queueUrl = `https://sqs.${deployed.region}.amazonaws.com/${deployed.account}/${r.exportQueue.name}`;
    for (const fn of [lookup, exportWorker])
      expect(fn.environment).toMatchObject({ EXPORTS_BUCKET: r.exportsBucket.name, EXPORT_QUEUE_URL: queueUrl });
    expect(r.exportsBucket.keyArn).toBe(r.archiveBucket.keyArn);
  });

  it('allow the lookup role to start, read and fail an export job, queue it and presign its bag', async () => {
    const result = await checkCalls(
      [
        call('lookup', 'DynamoDB', 'PutItem', items([JOB])),
        call('lookup', 'DynamoDB', 'GetItem', items([JOB])),
        call('lookup', 'DynamoDB', 'UpdateItem', items([JOB])),
        call('lookup', 'SQS', 'SendMessage', { QueueUrl: EXPORT_QUEUE }),
        call('lookup', 'S3', 'GetObject', bag),
      ].map(on),
      deployed,
    );
    expect(result.denials).toEqual([]);
  });

  it(
    'refuse the lookup role export writes it never makes: ' + 'another partition, the worker queue, bag writes',
    async () => {
      const result = await checkCalls(
        [
          call('lookup', 'DynamoDB', 'PutItem', items(['POLLER#chats'])),
          call('lookup', 'DynamoDB', 'UpdateItem', items(['LEDGER#chats'])),
          call('lookup', 'DynamoDB', 'DeleteItem', items([JOB])),
          call('lookup', 'SQS', 'ReceiveMessage', { QueueUrl: EXPORT_QUEUE }),
          call('lookup', 'S3', 'PutObject', bag),
        ].map(on),
        deployed,
      );
      expect(result.denials).toEqual([
        expect.stringMatching(/lookup role is not allowed dynamodb:PutItem on .* of POLLER#chats/),
        expect.stringMatching(/lookup role is not allowed dynamodb:UpdateItem on .* of LEDGER#chats/),
        expect.stringMatching(/lookup role is not allowed dynamodb:DeleteItem on .* of EXPORT#/),
        expect.stringMatching(/lookup role is not allowed sqs:ReceiveMessage on arn:aws:sqs:.*ExportQueue/),
        expect.stringMatching(/lookup role is not allowed s3:PutObject on arn:aws:s3:::claude-file-exports-dev-.*/),
        expect.stringMatching(
          /lookup role is not allowed kms:GenerateDataKey on arn:aws:kms:.* needed by S3 PutObject/,
        ),
      ]);
    },
  );

  it(
    'allow the export worker what a run does: read the scope and archived versions, ' +
      'write the bag and its checkpoints, update its job, queue its next run',
    async () => {
      const archived = { Bucket: 'local-bucket', Key: 'archive/generated/file_1', VersionId: 'v1' };
      const checkpoint = {
        Bucket: 'local-exports',
        Key: 'exports/exp_0123456789abcdef0123456789abcdef/checkpoint.json',
      };
      const result = await checkCalls(
        [
          call('exportWorker', 'DynamoDB', 'GetItem', items([FILE])),
          call('exportWorker', 'DynamoDB', 'Query', items(['CHAT#chat_1'])),
          call('exportWorker', 'DynamoDB', 'Query', items(['LEDGER#chats'])),
          call('exportWorker', 'DynamoDB', 'Scan', { TableName: 'local-table' }),
          call('exportWorker', 'DynamoDB', 'BatchGetItem', {
            ...items(['DELETION#file_1', 'DELETION#chat_1']),
            Tables: ['local-table'],
          }),
          call('exportWorker', 'DynamoDB', 'GetItem', items([JOB])),
          call('exportWorker', 'DynamoDB', 'UpdateItem', items([JOB])),
          // An export by matter id, and each report's holds: the matter, then every matter.
          call('exportWorker', 'DynamoDB', 'GetItem', items([MATTER_PARTITION])),
          call('exportWorker', 'DynamoDB', 'Query', items([MATTER_PARTITION])),
          // Each report's access trail: the trail's file index.
          call('exportWorker', 'DynamoDB', 'Query', items(['file_1'], 'local-table', { IndexName: 'trail-file' })),
          // A scope's users, projects or closed window: the creator, creator-email, project and month indexes.
          ...['search-creator', 'search-creator-email', 'search-project', 'search-month'].map((IndexName) =>
            call('exportWorker', 'DynamoDB', 'Query', items(['u_1'], 'local-table', { IndexName })),
          ),
          call('exportWorker', 'S3', 'GetObject', archived),
          call('exportWorker', 'S3', 'PutObject', checkpoint),
          call('exportWorker', 'S3', 'GetObject', checkpoint),
          call('exportWorker', 'S3', 'ListObjectsV2', { Bucket: 'local-exports', Prefix: 'exports/exp_0123/' }),
          call('exportWorker', 'S3', 'CreateMultipartUpload', bag),
          call('exportWorker', 'S3', 'UploadPart', bag),
          call('exportWorker', 'S3', 'CompleteMultipartUpload', bag),
          call('exportWorker', 'S3', 'AbortMultipartUpload', bag),
          call('exportWorker', 'SQS', 'ReceiveMessage', { QueueUrl: EXPORT_QUEUE }),
          call('exportWorker', 'SQS', 'DeleteMessage', { QueueUrl: EXPORT_QUEUE }),
          call('exportWorker', 'SQS', 'SendMessage', { QueueUrl: EXPORT_QUEUE }),
        ].map(on),
        deployed,
      );
      expect(result.denials).toEqual([]);
    },
  );

  it(
    'refuse the export worker a write to another partition, to the archive, to ' +
      'the ingest queue, or a listing outside the exports prefix',
    async () => {
      const result = await checkCalls(
        [
          call('exportWorker', 'DynamoDB', 'UpdateItem', items([FILE])),
          call('exportWorker', 'DynamoDB', 'PutItem', items([JOB])),
          call('exportWorker', 'DynamoDB', 'UpdateItem', items(['TRAIL#2026-03-01'])),
          call('exportWorker', 'DynamoDB', 'BatchGetItem', { ...items([FILE]), Tables: ['local-table'] }),
          // The trail is read by file only; the principal index and the search indexes no scope reads (status,
          // hashes, filename) are not the worker's, nor any write of a matter or a trail event.
          call('exportWorker', 'DynamoDB', 'Query', items(['arn:x'], 'local-table', { IndexName: 'trail-principal' })),
          call('exportWorker', 'DynamoDB', 'Query', items(['pending'], 'local-table', { IndexName: 'search-status' })),
          call('exportWorker', 'DynamoDB', 'UpdateItem', items([MATTER_PARTITION])),
          call('exportWorker', 'DynamoDB', 'PutItem', items(['TRAIL#2026-03-01'])),
          call('exportWorker', 'S3', 'PutObject', { Bucket: 'local-bucket', Key: 'archive/generated/file_1' }),
          call('exportWorker', 'S3', 'ListObjectsV2', { Bucket: 'local-exports', Prefix: 'other/' }),
          call('exportWorker', 'SQS', 'SendMessage', { QueueUrl: QUEUE }),
        ].map(on),
        deployed,
      );
      expect(result.denials).toEqual([
        expect.stringMatching(/exportWorker role is not allowed dynamodb:UpdateItem on .* of FILE#file_1/),
        expect.stringMatching(/exportWorker role is not allowed dynamodb:PutItem on .* of EXPORT#/),
        expect.stringMatching(/exportWorker role is not allowed dynamodb:UpdateItem on .* of TRAIL#/),
        expect.stringMatching(/exportWorker role is not allowed dynamodb:BatchGetItem on .* of FILE#file_1/),
        expect.stringMatching(/exportWorker role is not allowed dynamodb:Query on .*\/index\/trail-principal /),
        expect.stringMatching(/exportWorker role is not allowed dynamodb:Query on .*\/index\/search-status /),
        expect.stringMatching(/exportWorker role is not allowed dynamodb:UpdateItem on .* of MATTER/),
        expect.stringMatching(/exportWorker role is not allowed dynamodb:PutItem on .* of TRAIL#/),
        expect.stringMatching(
          /exportWorker role is not allowed s3:PutObject on arn:aws:s3:::claude-file-archiver-dev-/,
        ),
        expect.stringMatching(
          /exportWorker role is not allowed s3:ListBucket on arn:aws:s3:::claude-file-exports-dev-/,
        ),
        expect.stringMatching(/exportWorker role is not allowed sqs:SendMessage on arn:aws:sqs:.*IngestQueue/),
      ]);
    },
  );
});
