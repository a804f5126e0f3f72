/**
 * Upstream timestamps in one canonical form: RFC 3339 in UTC with millisecond precision,
 * `YYYY-MM-DDTHH:mm:ss.sssZ` (24 characters, what `Date.prototype.toISOString` writes).
 *
 * Why: a file's `created_at` orders its chats' listings (the sort key `F#<time>#<fileId>`,
 * table-keys.ts), and the listing cursor carries that key. Upstream's values are RFC 3339 with varying
 * precision and offsets (`…09:15:00.000000Z`, `…11:15:00+02:00`), so as given they neither sort by
 * instant nor have a bounded length; an 86-character timestamp made its page's cursor fail
 * validation. In canonical form every key has the same shape, sorts by instant, and fits the cursor.
 */

export const CANONICAL_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// RFC 3339 date-time (`T`, `t` or a space between date and time; `Z`, `z` or ±HH:MM), tolerating
// what ISO 8601 also allows and is unambiguous: omitted seconds, a comma before the fraction, an
// offset without its colon. The fraction may have any number of digits.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** Longest input looked at: a timestamp beyond this is not one (and is not worth a regex run). */
const MAX_INPUT = 256;

/**
 * The canonical form of an RFC 3339 timestamp, or null when `value` is not one (or names a date that
 * does not exist, or falls outside years 0000-9999 once in UTC). The fraction is truncated to
 * milliseconds, not rounded, so no value moves into the next second; a leap second (`:60`) reads as
 * the first instant of the next minute.
 */
export function canonicalTimestamp(value: string | null | undefined): string | null {
  if (typeof value !== 'string' || value.length > MAX_INPUT) return null;
  const m = RFC3339.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const offsetMinutes = m[8] !== undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60 || Math.abs(offsetMinutes) > 23 * 60 + 59) return null;

  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  const iso = new Date(date.getTime() - offsetMinutes * 60_000).toISOString();
  return CANONICAL_TIMESTAMP.test(iso) ? iso : null;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
