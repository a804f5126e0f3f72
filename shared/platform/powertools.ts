import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../contracts/metric-names.js';
import type { Counters, Log } from './telemetry.js';

/** Powertools Logger for a function (reads POWERTOOLS_* from the environment), and the Log port over it. */
export function createPowertoolsLogger(serviceName: string): { logger: Logger; log: Log } {
  const logger = new Logger({ serviceName });
  const log: Log = {
    debug: (message, attributes) => logger.debug({ message, ...attributes }),
    info: (message, attributes) => logger.info({ message, ...attributes }),
    warn: (message, attributes) => logger.warn({ message, ...attributes }),
    error: (message, attributes) => logger.error({ message, ...attributes }),
  };
  return { logger, log };
}

/**
 * Powertools Logger and Metrics for a function; both read POWERTOOLS_* from the environment. A
 * function that emits no metric (lookup) takes createPowertoolsLogger alone, and its bundle then
 * leaves Metrics out.
 */
export function createPowertools(serviceName: string): {
  logger: Logger;
  log: Log;
  metrics: Metrics;
  counters: Counters;
} {
  const { logger, log } = createPowertoolsLogger(serviceName);
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  const counters: Counters = {
    record(name, value, unit, dimension) {
      if (!dimension) {
        metrics.addMetric(name, MetricUnit[unit], value);
        return;
      }
      const single = metrics.singleMetric();
      single.addDimension(dimension.name, dimension.value);
      single.addMetric(name, MetricUnit[unit], value);
    },
  };
  return { logger, log, metrics, counters };
}
