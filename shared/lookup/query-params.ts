import * as z from '../contracts/zod.js';

/**
 * Query parameters several lookup routes share, defined once: the page size (`limit`) and an instant
 * of a period (`from`/`to`). Their messages are part of the API's answers (docs/lookup-api.md).
 */

/** `limit`: a whole number from 1 to `max`, given as a query string. */
export function pageLimitSchema(max: number) {
  return z.pipe(
    z.pipe(z.string().check(z.regex(/^\d{1,3}$/, { message: 'limit must be a whole number' })), z.transform(Number)),
    z.number().check(z.int(), z.gte(1), z.lte(max, { message: `limit must be between 1 and ${max}` })),
  );
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** `from`/`to`: a UTC date (the whole day) or an RFC 3339 timestamp. */
export const InstantSchema = z
  .string()
  .check(z.maxLength(40))
  .check(
    z.refine(
      (v) => (DATE.test(v) || TIMESTAMP.test(v)) && !Number.isNaN(Date.parse(DATE.test(v) ? `${v}T00:00:00Z` : v)),
      { message: 'must be a date (YYYY-MM-DD) or an RFC 3339 timestamp' },
    ),
  );

/** A date's first or last millisecond, or a timestamp, in the canonical form the index stores. */
export function instantOf(value: string, edge: 'start' | 'end'): string {
  if (DATE.test(value)) return edge === 'start' ? `${value}T00:00:00.000Z` : `${value}T23:59:59.999Z`;
  return new Date(value).toISOString();
}
