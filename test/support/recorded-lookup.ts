import { createLookupClients, createLookupRuntime } from '../../lambdas/lookup/runtime.js';
import { LookupConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import type { Log } from '../../shared/platform/telemetry.js';
import type { IngestStack } from './ingest-stack.js';
import { recordCallsOf } from './permissions/aws-call-recorder.js';

const quiet: Log = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The lookup handler over an ingest stack's bucket and table, built as the Lambda builds it, with
 * its clients' calls recorded as the lookup role's (checked against the deployed grants after each
 * test, as in lookup.test.ts).
 */
export function createRecordedLookup(stack: IngestStack, log: Log = quiet): ReturnType<typeof createLookupRuntime> {
  const config = loadConfig(LookupConfigSchema, {
    ARCHIVE_BUCKET: stack.bucket,
    INDEX_TABLE: stack.table,
    LOCAL_S3_ENDPOINT: stack.aws.s3Endpoint,
    LOCAL_DYNAMODB_ENDPOINT: stack.aws.dynamodbEndpoint,
  });
  const clients = createLookupClients(config);
  for (const client of Object.values(clients)) recordCallsOf(client, 'lookup', stack.bindings);
  return createLookupRuntime(config, log, clients);
}
