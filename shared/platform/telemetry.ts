/**
 * What the core needs from logging and metrics. The Lambdas pass Powertools Logger and Metrics
 * (which satisfy these shapes); tests pass recorders. Log attributes must never hold a secret.
 */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export interface Counters {
  /** Adds `value` to metric `name` (unit Count, Bytes or Milliseconds as the name implies). */
  record(
    name: string,
    value: number,
    unit: 'Count' | 'Bytes' | 'Milliseconds',
    dimension?: { name: string; value: string },
  ): void;
}

export const noCounters: Counters = { record() {} };
