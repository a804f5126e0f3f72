import type { Counters, Log } from '../../../shared/platform/telemetry.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  attributes: Record<string, unknown>;
}

/** A Log and Counters that keep what they were told, for assertions. */
export function recordingTelemetry() {
  const logs: LogEntry[] = [];
  const metrics: { name: string; value: number; dimension?: { name: string; value: string } | undefined }[] = [];
  const entry =
    (level: LogEntry['level']) =>
    (message: string, attributes: Record<string, unknown> = {}) => {
      logs.push({ level, message, attributes });
    };
  const log: Log = { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') };
  const counters: Counters = { record: (name, value, _unit, dimension) => metrics.push({ name, value, dimension }) };
  return { log, counters, logs, metrics };
}
