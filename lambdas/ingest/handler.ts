import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createApiKeyProvider } from '../../shared/upstream/api-key.js';
import type { ApiKeyProvider } from '../../shared/upstream/api-key.js';
import { IngestConfigSchema, WorkerBudgetConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { createPowertools } from '../../shared/platform/powertools.js';
import { SERVICE_NAMES } from '../../shared/contracts/metric-names.js';
import { createIngestRuntime } from './runtime.js';

// Cold start: configuration is validated and the upstream key read once, so a bad environment or an
// unreadable secret fails initialisation loudly instead of failing every record. Afterwards the key is
// served from Powertools' cache (5 minutes) and read again at once when upstream refuses it, so an
// operator's fix to the secret reaches warm functions without a redeploy.
const config = loadConfig(IngestConfigSchema, process.env);
const { logger, log, metrics, counters } = createPowertools(SERVICE_NAMES.ingest);
const apiKey = config.ANTHROPIC_API_KEY ?? secretApiKey(config.ANTHROPIC_API_KEY_SECRET_ARN ?? '');
if (typeof apiKey !== 'string') await apiKey.current();
const budget = loadConfig(WorkerBudgetConfigSchema, process.env);
const ingest = createIngestRuntime(config, { apiKey, log, counters, budget });

function secretApiKey(arn: string): ApiKeyProvider {
  return createApiKeyProvider((force) => getSecret(arn, { maxAge: 300, forceFetch: force }));
}

/** Lambda entry point: SQS event source with ReportBatchItemFailures. */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  try {
    return await ingest(event, context);
  } finally {
    metrics.publishStoredMetrics();
  }
}
