import type { PrincipalName, ResourceName } from './deployed-permissions.js';
import { leadingKeysOf, PARTITION_KEY_OF } from './dynamodb-leading-keys.js';

/**
 * Which deployed resource each local name stands for: a test's bucket is the archive bucket, its
 * table the index table, its queues the ingest queue and the dead-letter queue (by queue name).
 */
export interface ResourceBindings {
  buckets?: Record<string, ResourceName>;
  tables?: Record<string, ResourceName>;
  queues?: Record<string, ResourceName>;
  secrets?: Record<string, ResourceName>;
}

/** One AWS call a client made (or presigned) for a principal: enough to know what IAM authorizes it. */
export interface RecordedCall {
  principal: PrincipalName;
  /** The SDK client's service: S3, DynamoDB, SQS, SecretsManager. */
  service: string;
  /** The API operation, e.g. HeadObject. */
  operation: string;
  /**
   * The request's resource-naming fields only (never bodies): Bucket, Key, VersionId, TableName,
   * QueueUrl, …; for DynamoDB `LeadingKeys` (table name to the partition key values the request
   * touches) and, in `TransactItems`, each item's `LeadingKeys` (see dynamodb-leading-keys.ts).
   */
  target: Record<string, unknown>;
  bindings: ResourceBindings;
  /** How S3 answered, where it changes what IAM requires: a read of a missing key. */
  outcome: 'ok' | 'not-found' | 'failed';
  /** Who makes the call in AWS, when not the function's code (e.g. the event source mapping). */
  via: string | undefined;
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: unknown }) => Promise<unknown>,
        context: { clientName?: string; commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; override?: boolean },
    ): void;
  };
}

const TARGET_FIELDS = [
  'Bucket',
  'Key',
  'VersionId',
  'Prefix',
  'TableName',
  'IndexName',
  'QueueUrl',
  'QueueName',
  'SecretId',
] as const;

const recorded: RecordedCall[] = [];
let checkedUpTo = 0;

/** The in-process URL signer (shared/archive/s3-url-signer.ts): it tells listeners of each URL it signs. */
interface PresigningSigner {
  onPresign(listener: (call: { operation: string; input: object }) => void): void;
}

function isPresigningSigner(value: object): value is PresigningSigner {
  return typeof (value as Partial<PresigningSigner>).onPresign === 'function';
}

/** The functions' secret reader (shared/platform/secrets-manager-reader.ts): it tells listeners of each read. */
interface SecretReader {
  onRead(listener: (call: { operation: string; input: object; outcome: 'ok' | 'failed' }) => void): void;
}

function isSecretReader(value: object): value is SecretReader {
  return typeof (value as Partial<SecretReader>).onRead === 'function';
}

/**
 * Records every call `client` makes, including presigned requests (the SDK's presigner runs the same
 * middleware stack; the lookup's own URL signer tells of each URL it signs) and the secret reads of
 * the functions' own Secrets Manager reader (no SDK client either: it tells of each GetSecretValue),
 * as made by `principal` on the deployed resources `bindings` names. A presigned request is recorded
 * as the S3 call its URL makes: S3 authorizes it as the signer's. The handler code is untouched: the middleware only
 * observes and passes the call on.
 */
export function recordCallsOf<C extends object>(
  client: C,
  principal: PrincipalName,
  bindings: ResourceBindings,
  via?: string,
): C {
  if (isPresigningSigner(client)) {
    client.onPresign(({ operation, input }) => {
      recorded.push({
        principal,
        service: 'S3',
        operation,
        target: targetOf(input, undefined, operation),
        bindings,
        outcome: 'ok',
        via,
      });
    });
    return client;
  }
  if (isSecretReader(client)) {
    client.onRead(({ operation, input, outcome }) => {
      recorded.push({
        principal,
        service: 'SecretsManager',
        operation,
        target: targetOf(input, undefined, operation),
        bindings,
        outcome,
        via,
      });
    });
    return client;
  }
  const stack = (client as unknown as MiddlewareClient).middlewareStack;
  stack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
      const call: RecordedCall = {
        principal,
        service: (context.clientName ?? 'unknown').replace(/Client$/, ''),
        operation,
        target: targetOf(args.input, context.clientName === 'DynamoDBClient' ? bindings : undefined, operation),
        bindings,
        outcome: 'ok',
        via,
      };
      recorded.push(call);
      try {
        return await next(args);
      } catch (err) {
        call.outcome = isNotFound(err) ? 'not-found' : 'failed';
        throw err;
      }
    },
    { step: 'initialize', name: 'recordDeployedPermissionUse', override: true },
  );
  return client;
}

/** Calls recorded since the previous call of this function (each is checked once). */
export function takeUncheckedCalls(): RecordedCall[] {
  const fresh = recorded.slice(checkedUpTo);
  checkedUpTo = recorded.length;
  return fresh;
}

/** `dynamo` is the call's bindings when it is a DynamoDB call: its tables' partition keys are read. */
function targetOf(input: unknown, dynamo: ResourceBindings | undefined, operation: string): Record<string, unknown> {
  if (typeof input !== 'object' || input === null) return {};
  const source = input as Record<string, unknown>;
  const target: Record<string, unknown> = {};
  for (const field of TARGET_FIELDS) if (typeof source[field] === 'string') target[field] = source[field];
  // Multi-table DynamoDB calls: the tables (and, for transactions, each item's operation).
  if (typeof source['RequestItems'] === 'object' && source['RequestItems'] !== null)
    target['Tables'] = Object.keys(source['RequestItems']);
  const leading = dynamo
    ? leadingKeysOf(operation, source, (table) => {
        const deployed = dynamo.tables?.[table];
        return deployed === undefined ? undefined : PARTITION_KEY_OF[deployed];
      })
    : {};
  if (leading.byTable) target['LeadingKeys'] = leading.byTable;
  if (Array.isArray(source['TransactItems'])) {
    target['TransactItems'] = source['TransactItems'].map((item: Record<string, { TableName?: string }>, i) => {
      const [op, body] = Object.entries(item)[0] ?? ['unknown', {}];
      return {
        op,
        TableName: body.TableName,
        ...(leading.transactItems?.[i] ? { LeadingKeys: leading.transactItems[i] } : {}),
      };
    });
  }
  return target;
}

function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}
