import type { Log } from '../shared/platform/telemetry.js';

/** A readable one-line log for the local stack (the Lambdas log Powertools JSON instead). */
export function createConsoleLog(component: string, opts: { debug?: boolean } = {}): Log {
  const write = (level: string, message: string, attributes?: Record<string, unknown>) => {
    const fields = Object.entries(attributes ?? {})
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const line =
      `${new Date().toISOString().slice(11, 23)} ${level.padEnd(5)} ` +
      `[${component}] ${message}${fields ? `  ${fields}` : ''}`;
    if (level === 'ERROR' || level === 'WARN') console.error(line);
    else console.log(line);
  };
  return {
    debug: (m, a) => {
      if (opts.debug) write('DEBUG', m, a);
    },
    info: (m, a) => write('INFO', m, a),
    warn: (m, a) => write('WARN', m, a),
    error: (m, a) => write('ERROR', m, a),
  };
}
