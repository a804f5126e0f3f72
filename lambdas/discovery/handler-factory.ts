import type { Context } from 'aws-lambda';
import type { PollerSource } from '../../shared/contracts/discovery-ledger.js';
import { DiscoveryConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { DISCOVERY_SERVICE_NAMES } from '../../shared/contracts/metric-names.js';
import { createPowertools } from '../../shared/platform/powertools.js';
import { cachedSecretString, processSecretsManagerReader } from '../../shared/platform/secrets-manager-reader.js';
import { createApiKeyProvider } from '../../shared/upstream/api-key.js';
import { createPollerRuntime } from './runtime.js';

/**
 * A scheduled poller's Lambda entry point, built at cold start: configuration validated and the
 * upstream key read once (a bad environment fails initialisation, not a run). The run's outcome is
 * in its ledger record and its log line; a run that finds another holding the lease ends at once.
 */
export async function createPollerHandler(
  source: PollerSource,
): Promise<(event: unknown, context: Context) => Promise<{ outcome: string }>> {
  const config = loadConfig(DiscoveryConfigSchema, process.env);
  const { logger, log, metrics, counters } = createPowertools(DISCOVERY_SERVICE_NAMES[source]);
  const arn = config.ANTHROPIC_API_KEY_SECRET_ARN ?? '';
  const apiKey =
    config.ANTHROPIC_API_KEY ??
    createApiKeyProvider(cachedSecretString(processSecretsManagerReader, arn, { maxAgeSeconds: 300 }));
  if (typeof apiKey !== 'string') await apiKey.current();
  const run = createPollerRuntime(source, config, { apiKey, log, counters });
  return async (_event, context) => {
    logger.addContext(context);
    try {
      const outcome = await run(context);
      return { outcome: outcome.kind === 'ran' ? outcome.ledger.ending : outcome.kind };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
