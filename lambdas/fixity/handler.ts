import type { Context } from 'aws-lambda';
import { FixityConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { SERVICE_NAMES } from '../../shared/contracts/metric-names.js';
import { createPowertools } from '../../shared/platform/powertools.js';
import { createFixityRuntime } from './runtime.js';

const config = loadConfig(FixityConfigSchema, process.env);
const { logger, log, metrics, counters } = createPowertools(SERVICE_NAMES.fixity);
const run = createFixityRuntime(config, { log, counters });

/** Lambda entry point, invoked by its EventBridge schedule: one step of the day's fixity pass. */
export async function handler(_event: unknown, context: Context): Promise<void> {
  logger.addContext(context);
  try {
    await run(() => context.getRemainingTimeInMillis());
  } finally {
    metrics.publishStoredMetrics();
  }
}
