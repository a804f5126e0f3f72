import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { LookupConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { createPowertoolsLogger } from '../../shared/platform/powertools.js';
import { SERVICE_NAMES } from '../../shared/contracts/metric-names.js';
import { createLookupRuntime } from './runtime.js';

const config = loadConfig(LookupConfigSchema, process.env);
const { logger, log } = createPowertoolsLogger(SERVICE_NAMES.lookup);
const lookup = createLookupRuntime(config, log);

/** Lambda entry point: API Gateway REST API, proxy integration, AWS_IAM authorization. */
export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  logger.addContext(context);
  return lookup(event);
}
