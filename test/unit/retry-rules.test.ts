import { describe, expect, it } from 'vitest';
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs } from '../../shared/upstream/retry-rules.js';

describe('upstream retry rules (docs/upstream-api-facts.md)', () => {
  it('retries 408, 409, 429 and every 5xx including 529, nothing else', () => {
    for (const s of [408, 409, 429, 500, 502, 503, 504, 529]) expect(isRetryableStatus(s, {})).toBe(true);
    for (const s of [400, 401, 402, 403, 404, 413]) expect(isRetryableStatus(s, {})).toBe(false);
  });

  it('lets x-should-retry override the status both ways', () => {
    expect(isRetryableStatus(500, { 'x-should-retry': 'false' })).toBe(false);
    expect(isRetryableStatus(400, { 'x-should-retry': 'true' })).toBe(true);
  });

  it('prefers retry-after-ms, then retry-after seconds, then an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '9' }, now)).toBe(1500);
    expect(parseRetryAfterMs({ 'retry-after': '7' }, now)).toBe(7000);
    expect(parseRetryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, now)).toBe(30_000);
    expect(parseRetryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfterMs({}, now)).toBeUndefined();
  });

  it('backs off exponentially from 0.5 s, capped at 8 s, with at most 25% jitter downwards', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelayMs(n, () => 0))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(backoffDelayMs(0, () => 0.999)).toBeGreaterThanOrEqual(375);
    expect(backoffDelayMs(0, () => 0.999)).toBeLessThan(500);
  });
});
