import type { RecordedCall } from './aws-call-recorder.js';
import type { DeployedPermissions, DeployedResource, ResourceName } from './deployed-permissions.js';
import { PARTITION_KEY_OF } from './dynamodb-leading-keys.js';

/** One authorization AWS makes for a call: an action on a resource, with the request's context. */
export interface IamRequest {
  action: string;
  resource: string;
  /** Which deployed resource (its key, for KMS) the request is on; picks the resource policy. */
  on: ResourceName;
  kmsKey: boolean;
  /** Request context keys; a multivalued key (dynamodb:LeadingKeys) is a list. */
  context: Record<string, string | string[]>;
  /** Why the call needs it, for the failure message. */
  because: string;
}

/**
 * The IAM requests AWS would authorize for a recorded call, as AWS documents them:
 * - S3: GetObject/HeadObject need s3:GetObject, or s3:GetObjectVersion with a VersionId; a read of a
 *   missing key answers 404 only to a caller holding s3:ListBucket on the bucket, and 403 otherwise,
 *   so a 404 the code relied on requires s3:ListBucket. Multipart calls need s3:PutObject, except
 *   AbortMultipartUpload and ListParts (s3:ListMultipartUploadParts). With SSE-KMS, S3 uses the key
 *   on the caller's behalf: kms:GenerateDataKey for PutObject and CreateMultipartUpload, kms:Decrypt
 *   for UploadPart, CompleteMultipartUpload and GetObject (a presigned GET is the signer's request);
 *   never kms:Encrypt. HeadObject reads no data.
 * - DynamoDB: the table action (per table and per transaction item), on the index ARN for a query of
 *   an index, and kms:Decrypt on a table encrypted with a customer-managed key (DynamoDB decrypts
 *   the table key for each caller; its other key uses, DescribeKey among them, are made for the
 *   principal that creates the table and under DynamoDB's own grant). Every item-level action
 *   carries `dynamodb:LeadingKeys`, the partition key values it touches (dynamodb-leading-keys.ts
 *   says how AWS fills it per operation), so a grant conditioned on them is evaluated as AWS would;
 *   a recorded call whose partition keys are unknown is refused rather than evaluated without them
 *   (ForAllValues would then pass). Scan carries none, as in AWS.
 * - SQS: the queue action; on a queue encrypted with a customer-managed key, sending needs
 *   kms:GenerateDataKey and kms:Decrypt, receiving kms:Decrypt.
 * - Secrets Manager: GetSecretValue, and kms:Decrypt on the secret's key.
 * A call this table does not know is an error: a new kind of call must be described before it can pass.
 */
export function iamRequestsFor(call: RecordedCall, deployed: DeployedPermissions): IamRequest[] {
  const { region, account } = deployed;
  const secure = { 'aws:SecureTransport': 'true' };
  const label = `${call.service} ${call.operation}${call.via ? ` (${call.via})` : ''}`;
  const kms = (resource: DeployedResource, on: ResourceName, service: string, ...actions: string[]): IamRequest[] =>
    resource.keyArn === undefined
      ? []
      : actions.map((action) => ({
          action,
          resource: resource.keyArn as string,
          on,
          kmsKey: true,
          context: { ...secure, 'kms:ViaService': `${service}.${region}.amazonaws.com`, 'kms:CallerAccount': account },
          because: `${label} on ${resource.arn}: ${service} uses the key on the caller's behalf`,
        }));
  const plain = (
    action: string,
    resource: string,
    on: ResourceName,
    context: Record<string, string | string[]> = {},
    because = label,
  ): IamRequest => ({
    action,
    resource,
    on,
    kmsKey: false,
    context: { ...secure, ...context },
    because,
  });

  switch (call.service) {
    case 'S3': {
      const bucket = stringField(call, 'Bucket');
      const on = bound(call.bindings.buckets, bucket, 'bucket', call);
      const res = deployed.resources[on];
      const object = `${res.arn}/${stringField(call, 'Key', '')}`;
      const tls = { 's3:TlsVersion': '1.3' };
      const versioned = typeof call.target['VersionId'] === 'string';
      const read = (withData: boolean) => [
        plain(versioned ? 's3:GetObjectVersion' : 's3:GetObject', object, on, tls),
        ...(call.outcome === 'not-found'
          ? [
              plain(
                's3:ListBucket',
                res.arn,
                on,
                tls,
                `${label} of a missing key relied on a 404, which S3 gives only ` +
                  `to a caller with s3:ListBucket (403 otherwise)`,
              ),
            ]
          : []),
        ...(withData ? kms(res, on, 's3', 'kms:Decrypt') : []),
      ];
      switch (call.operation) {
        case 'GetObject':
          return read(true);
        case 'HeadObject':
          return read(false);
        case 'PutObject':
        case 'CreateMultipartUpload':
          return [plain('s3:PutObject', object, on, tls), ...kms(res, on, 's3', 'kms:GenerateDataKey')];
        case 'UploadPart':
          return [plain('s3:PutObject', object, on, tls), ...kms(res, on, 's3', 'kms:Decrypt')];
        case 'CompleteMultipartUpload':
          // S3 decrypts the parts to assemble the object (multipart upload API and permissions).
          return [plain('s3:PutObject', object, on, tls), ...kms(res, on, 's3', 'kms:Decrypt')];
        case 'AbortMultipartUpload':
          return [plain('s3:AbortMultipartUpload', object, on, tls)];
        case 'ListParts':
          return [plain('s3:ListMultipartUploadParts', object, on, tls)];
        case 'ListMultipartUploads':
          return [plain('s3:ListBucketMultipartUploads', res.arn, on, tls)];
        case 'ListObjectsV2':
        case 'ListObjects':
          return [plain('s3:ListBucket', res.arn, on, { ...tls, ...prefixContext(call) })];
        case 'ListObjectVersions':
          return [plain('s3:ListBucketVersions', res.arn, on, { ...tls, ...prefixContext(call) })];
        case 'DeleteObject':
          return [plain(versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', object, on, tls)];
        // Object Lock legal holds: one action each, with or without a VersionId (no KMS: no data is read).
        case 'PutObjectLegalHold':
          return [plain('s3:PutObjectLegalHold', object, on, tls)];
        case 'GetObjectLegalHold':
          return [plain('s3:GetObjectLegalHold', object, on, tls)];
      }
      break;
    }
    case 'DynamoDB': {
      const leading = (call.target['LeadingKeys'] ?? {}) as Record<string, string[]>;
      const onTable = (table: string, action: string, keys: string[] | undefined): IamRequest[] => {
        const on = bound(call.bindings.tables, table, 'table', call);
        const res = deployed.resources[on];
        if (res.partitionKey === undefined || PARTITION_KEY_OF[on] !== res.partitionKey) {
          throw new Error(
            `${label}: table ${on} is keyed by ${res.partitionKey ?? 'nothing'} ` +
              `when deployed, but the recorder reads ${PARTITION_KEY_OF[on] ?? 'nothing'} ` +
              `(dynamodb-leading-keys.ts)`,
          );
        }
        const index = typeof call.target['IndexName'] === 'string' ? `/index/${call.target['IndexName']}` : '';
        if (action !== 'dynamodb:Scan' && (keys === undefined || keys.length === 0)) {
          throw new Error(
            `${label} on table "${table}" without the partition key values ` +
              `it touches: dynamodb:LeadingKeys cannot be evaluated`,
          );
        }
        const context = keys === undefined ? {} : { 'dynamodb:LeadingKeys': keys };
        return [
          plain(
            action,
            `${res.arn}${index}`,
            on,
            context,
            keys === undefined ? label : `${label} of ${keys.join(', ')}`,
          ),
          ...kms(res, on, 'dynamodb', 'kms:Decrypt'),
        ];
      };
      const single: Record<string, string> = {
        GetItem: 'dynamodb:GetItem',
        PutItem: 'dynamodb:PutItem',
        UpdateItem: 'dynamodb:UpdateItem',
        DeleteItem: 'dynamodb:DeleteItem',
        Query: 'dynamodb:Query',
        Scan: 'dynamodb:Scan',
      };
      const action = single[call.operation];
      if (action) {
        const table = stringField(call, 'TableName');
        return onTable(table, action, action === 'dynamodb:Scan' ? undefined : leading[table]);
      }
      if (call.operation === 'BatchGetItem' || call.operation === 'BatchWriteItem') {
        return ((call.target['Tables'] ?? []) as string[]).flatMap((t) =>
          onTable(t, `dynamodb:${call.operation}`, leading[t]),
        );
      }
      if (call.operation === 'TransactWriteItems' || call.operation === 'TransactGetItems') {
        const itemAction: Record<string, string> = {
          Put: 'PutItem',
          Update: 'UpdateItem',
          Delete: 'DeleteItem',
          ConditionCheck: 'ConditionCheckItem',
          Get: 'GetItem',
        };
        return (
          (call.target['TransactItems'] ?? []) as { op: string; TableName: string; LeadingKeys?: string[] }[]
        ).flatMap((i) => onTable(i.TableName, `dynamodb:${itemAction[i.op] ?? i.op}`, i.LeadingKeys));
      }
      break;
    }
    case 'SQS': {
      const name =
        typeof call.target['QueueUrl'] === 'string'
          ? (new URL(call.target['QueueUrl']).pathname.split('/').pop() ?? '')
          : stringField(call, 'QueueName');
      const on = bound(call.bindings.queues, name, 'queue', call);
      const res = deployed.resources[on];
      switch (call.operation) {
        case 'SendMessage':
        case 'SendMessageBatch':
          return [plain('sqs:SendMessage', res.arn, on), ...kms(res, on, 'sqs', 'kms:GenerateDataKey', 'kms:Decrypt')];
        case 'ReceiveMessage':
          return [plain('sqs:ReceiveMessage', res.arn, on), ...kms(res, on, 'sqs', 'kms:Decrypt')];
        case 'DeleteMessage':
        case 'DeleteMessageBatch':
          return [plain('sqs:DeleteMessage', res.arn, on)];
        case 'ChangeMessageVisibility':
        case 'ChangeMessageVisibilityBatch':
          return [plain('sqs:ChangeMessageVisibility', res.arn, on)];
        case 'GetQueueAttributes':
        case 'GetQueueUrl':
          return [plain(`sqs:${call.operation}`, res.arn, on)];
      }
      break;
    }
    case 'SecretsManager': {
      if (call.operation !== 'GetSecretValue') break;
      const on = bound(call.bindings.secrets, stringField(call, 'SecretId'), 'secret', call);
      const res = deployed.resources[on];
      return [plain('secretsmanager:GetSecretValue', res.arn, on), ...kms(res, on, 'secretsmanager', 'kms:Decrypt')];
    }
  }
  throw new Error(
    `${label}: the permission checks do not know which IAM actions ` +
      `this call needs; describe it in test/support/permissions/iam-requests.ts`,
  );
}

function bound(
  bindings: Record<string, ResourceName> | undefined,
  localName: string,
  kind: string,
  call: RecordedCall,
): ResourceName {
  const name = bindings?.[localName];
  if (!name) {
    throw new Error(
      `${call.principal} called ${call.service} ${call.operation} on ` +
        `${kind} "${localName}", which stands for no resource of the ` +
        `deployed stack (bound: ${JSON.stringify(bindings ?? {})})`,
    );
  }
  return name;
}

function stringField(call: RecordedCall, field: string, fallback?: string): string {
  const value = call.target[field];
  if (typeof value === 'string') return value;
  if (fallback !== undefined) return fallback;
  throw new Error(`${call.service} ${call.operation} without ${field}`);
}

function prefixContext(call: RecordedCall): Record<string, string> {
  return typeof call.target['Prefix'] === 'string' ? { 's3:prefix': call.target['Prefix'] } : {};
}
