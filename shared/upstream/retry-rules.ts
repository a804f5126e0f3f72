/**
 * Upstream's retry rules (the official SDK's, see docs/upstream-api-facts.md), as pure functions.
 * - `x-should-retry: true|false` overrides everything.
 * - Otherwise 408, 409, 429 and >= 500 (502, 503, 504, 529 included) are retryable; other statuses are final.
 * - The wait is `retry-after-ms`, else `retry-after` (seconds or an HTTP date), else capped
 *   exponential backoff with jitter: min(0.5 × 2^n, 8) s × (1 − random × 0.25).
 */
export type HeaderBag = Record<string, string | string[] | undefined>;

export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The `x-should-retry` header's verdict: true or false when upstream sent one, else undefined. */
export function shouldRetryOverride(headers: HeaderBag): boolean | undefined {
  const override = headerValue(headers, 'x-should-retry')?.trim().toLowerCase();
  if (override === 'true') return true;
  if (override === 'false') return false;
  return undefined;
}

/** Whether a failed upstream status should be tried again: `x-should-retry` first, for every status. */
export function isRetryableStatus(status: number, headers: HeaderBag): boolean {
  return shouldRetryOverride(headers) ?? (status === 408 || status === 409 || status === 429 || status >= 500);
}

/** Milliseconds the server asked us to wait, or undefined when it did not say (or said nonsense). */
export function parseRetryAfterMs(headers: HeaderBag, nowMs: number): number | undefined {
  const ms = headerValue(headers, 'retry-after-ms');
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const after = headerValue(headers, 'retry-after');
  if (after === undefined) return undefined;
  const trimmed = after.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Backoff before in-process attempt `retryIndex + 1` (0-based): capped exponential with jitter. */
export function backoffDelayMs(retryIndex: number, random: () => number = Math.random): number {
  const base = Math.min(500 * 2 ** retryIndex, 8_000);
  return Math.round(base * (1 - random() * 0.25));
}
