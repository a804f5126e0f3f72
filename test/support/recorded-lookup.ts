import { createLookupClients, createLookupRuntime } from '../../lambdas/lookup/runtime.js';
import { LookupConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import type { Log } from '../../shared/platform/telemetry.js';
import type { IngestStack } from './ingest-stack.js';
import { recordCallsOf } from './permissions/aws-call-recorder.js';

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The lookup handler over an ingest stack's bucket and table, built as the Lambda builds it, on the
 * stack's own S3 tier (fauxqs, s3rver, or the RADOS gateway as a user holding exactly the lookup
 * role's S3 statements), with its clients' calls recorded as the lookup role's (checked against the
 * deployed grants after each test).
 */
export async function createRecordedLookup(
  stack: IngestStack,
  log: Log = quiet,
): Promise<ReturnType<typeof createLookupRuntime>> {
  const config = loadConfig(LookupConfigSchema, {
    ARCHIVE_BUCKET: stack.bucket,
    INDEX_TABLE: stack.table,
    HOLD_WORK_QUEUE_URL: stack.queues.queueUrl,
    // The ingest function's own timeout is what a release waits for; a test need not wait.
    HOLD_RELEASE_DELAY_SECONDS: '0',
    LOCAL_S3_ENDPOINT: stack.archive.endpoint,
    LOCAL_DYNAMODB_ENDPOINT: stack.aws.dynamodbEndpoint,
    LOCAL_SQS_ENDPOINT: stack.aws.sqsEndpoint,
  });
  const credentials = await stack.archive.credentialsFor('lookup');
  const clients = createLookupClients(config, {
    ...(credentials ? { s3: { region: stack.aws.region, credentials } } : {}),
    onClient: (client) => recordCallsOf(client, 'lookup', stack.bindings),
  });
  return createLookupRuntime(config, log, clients);
}
