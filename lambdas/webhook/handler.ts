import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  WebhookConfigSchema,
  WorkerBudgetConfigSchema,
  loadConfig,
} from '../../shared/contracts/lambda-environment.js';
import { SERVICE_NAMES } from '../../shared/contracts/metric-names.js';
import { createPowertools } from '../../shared/platform/powertools.js';
import { cachedSecretString, processSecretsManagerReader } from '../../shared/platform/secrets-manager-reader.js';
import { createApiKeyProvider } from '../../shared/upstream/api-key.js';
import { createWebhookSecrets } from '../../shared/webhook/signature.js';
import { createWebhookRuntime } from './runtime.js';

// Cold start: configuration is validated once. Neither secret is read here: a secret that cannot be
// read must answer 503 ("send again") per request, not fail the function's initialisation (which
// API Gateway turns into a bare 502). The webhook secret is cached for a minute, so a rotation's
// new document reaches every warm function within a minute (docs/deployment.md).
const config = loadConfig(WebhookConfigSchema, process.env);
const { logger, log, metrics, counters } = createPowertools(SERVICE_NAMES.webhook);
const localSecrets = config.WEBHOOK_SECRETS;
const secretArn = config.WEBHOOK_SECRET_ARN ?? '';
const readWebhookSecret = cachedSecretString(processSecretsManagerReader, secretArn, { maxAgeSeconds: 60 });
const secrets = createWebhookSecrets(localSecrets ? () => Promise.resolve(localSecrets) : () => readWebhookSecret());
const upstreamKeyArn = config.ANTHROPIC_API_KEY_SECRET_ARN ?? '';
const apiKey =
  config.ANTHROPIC_API_KEY ??
  createApiKeyProvider(cachedSecretString(processSecretsManagerReader, upstreamKeyArn, { maxAgeSeconds: 300 }));
const budget = loadConfig(WorkerBudgetConfigSchema, process.env);
const webhook = createWebhookRuntime(config, { secrets, apiKey, log, counters, budget });

/** Stop this long before the Lambda's timeout, so the caller gets a 503 and not API Gateway's 504. */
const DEADLINE_MARGIN_MS = 2_000;

/** Lambda entry point: API Gateway REST API, proxy integration, no authorizer (the signature is checked here). */
export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  logger.addContext(context);
  const signal = AbortSignal.timeout(Math.max(1, context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS));
  try {
    return await webhook(event, { signal });
  } finally {
    // WebhookRequests (with its outcome dimension) is published on its own at once; only a request
    // that enqueued jobs leaves a stored metric, and publishing none would log a warning every time.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
