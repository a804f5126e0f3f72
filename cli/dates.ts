import { UsageError } from './exit-codes.js';

/**
 * A date option: an ISO 8601 date (`2025-06-01`, midnight UTC), a date-time with an offset
 * (`2025-06-01T12:00:00Z`), or an age before now (`90m`, `36h`, `7d`). Returns epoch ms.
 */
export function parseDateOption(value: string, option: string, nowMs: number): number {
  const age = /^(\d{1,6})([mhd])$/.exec(value);
  if (age) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as 'm' | 'h' | 'd'];
    return nowMs - Number(age[1]) * unit;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const ms = Date.parse(`${value}T00:00:00Z`);
    if (Number.isFinite(ms) && new Date(ms).toISOString().startsWith(value)) return ms;
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(
    `${option} must be a date (2025-06-01), a date-time with a zone ` +
      `(2025-06-01T12:00:00Z) or an age (90m, 36h, 7d), not "${value.slice(0, 60)}"`,
  );
}

/** A positive whole number option. */
export function parseCount(value: string, option: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max)
    throw new UsageError(`${option} must be a whole number from 1 to ${max}, not "${value.slice(0, 40)}"`);
  return n;
}
