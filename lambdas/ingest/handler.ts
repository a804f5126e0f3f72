import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { IngestConfigSchema, loadConfig } from '../../shared/config.js';
import { createPowertools } from '../../shared/powertools.js';
import { SERVICE_NAMES } from '../../shared/telemetry-names.js';
import { createIngestRuntime } from './runtime.js';

// Cold start: configuration is validated and the upstream key read once; a bad environment or an
// unreadable secret fails initialisation loudly instead of failing every record.
const config = loadConfig(IngestConfigSchema, process.env);
const { logger, log, metrics, counters } = createPowertools(SERVICE_NAMES.ingest);
const apiKey = await readApiKey();
const ingest = createIngestRuntime(config, { apiKey, log, counters });

async function readApiKey(): Promise<string> {
  if (config.ANTHROPIC_API_KEY) return config.ANTHROPIC_API_KEY;
  const arn = config.ANTHROPIC_API_KEY_SECRET_ARN ?? '';
  const value = await getSecret(arn, { maxAge: 3600 });
  const key = typeof value === 'string' ? value.trim() : '';
  if (key.length === 0) throw new Error('the upstream API key secret is empty: put the key in the secret after deploy');
  return key;
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
