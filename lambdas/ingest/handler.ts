import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createApiKeyProvider } from '../../shared/upstream/api-key.js';
import type { ApiKeyProvider } from '../../shared/upstream/api-key.js';
import { IngestConfigSchema, WorkerBudgetConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { createPowertools } from '../../shared/platform/powertools.js';
import { cachedSecretString, processSecretsManagerReader } from '../../shared/platform/secrets-manager-reader.js';
import { SERVICE_NAMES } from '../../shared/contracts/metric-names.js';
import { createIngestRuntime } from './runtime.js';

// Cold start: configuration is validated and the upstream key read once, so a bad environment or an
// unreadable secret fails initialisation loudly instead of failing every record. Afterwards the key is
// served from a cache (5 minutes: shared/platform/secrets-manager-reader.ts) and read again at once
// when upstream refuses it, so an operator's fix to the secret reaches warm functions without a redeploy.
const config = loadConfig(IngestConfigSchema, process.env);
const { logger, log, metrics, counters } = createPowertools(SERVICE_NAMES.ingest);
const apiKey = config.ANTHROPIC_API_KEY ?? secretApiKey(config.ANTHROPIC_API_KEY_SECRET_ARN ?? '');
if (typeof apiKey !== 'string') await apiKey.current();
const budget = loadConfig(WorkerBudgetConfigSchema, process.env);
const ingest = createIngestRuntime(config, { apiKey, log, counters, budget });

function secretApiKey(arn: string): ApiKeyProvider {
  return createApiKeyProvider(cachedSecretString(processSecretsManagerReader, arn, { maxAgeSeconds: 300 }));
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
