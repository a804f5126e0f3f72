import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ExportConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { SERVICE_NAMES } from '../../shared/contracts/metric-names.js';
import { createPowertools } from '../../shared/platform/powertools.js';
import { createExportRuntime } from './runtime.js';

const config = loadConfig(ExportConfigSchema, process.env);
const { logger, log } = createPowertools(SERVICE_NAMES.export);
const runExports = createExportRuntime(config, log);

/** Lambda entry point: the export queue (batch size 1, ReportBatchItemFailures). */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  return runExports(event, context);
}
