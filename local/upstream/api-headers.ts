/**
 * The request headers the sample upstream requires and the rate-limit headers it sends, as
 * docs/upstream-api-facts.md states them.
 */
import type { IncomingMessage } from 'node:http';

// Written out here rather than imported from shared/upstream/upstream-client.ts on purpose: this server is the
// tests' model of the documented API, so a wrong value in the client must not also become its own.
export const ANTHROPIC_VERSION = '2023-06-01';
export const FILES_API_BETA = 'files-api-2025-04-14';

/**
 * `x-api-key` must equal the key. Compliance API paths also accept `Authorization: Bearer <key>`,
 * as the reference's curl examples for the Compliance API use it.
 */
export function isAuthorized(req: IncomingMessage, apiKey: string, path: string): boolean {
  if (req.headers['x-api-key'] === apiKey) return true;
  return path.startsWith('/v1/compliance/') && req.headers.authorization === `Bearer ${apiKey}`;
}

/** Whether `anthropic-beta` (one header or several, comma-separated) names the Files API beta. */
export function hasFilesApiBeta(req: IncomingMessage): boolean {
  const header = req.headers['anthropic-beta'];
  const values = (Array.isArray(header) ? header : [header ?? '']).flatMap((h) => h.split(','));
  return values.some((v) => v.trim() === FILES_API_BETA);
}

/**
 * The `anthropic-ratelimit-requests-*` headers over one-minute windows from `startedAt`. The limit is
 * reported, never enforced (tests inject 429s instead). Pass `count` to add this request to the
 * current window first: requests failing authentication do not count, as upstream documents.
 */
export function createRateLimitWindow(
  limit: number,
  startedAt = Date.now(),
): (count: boolean) => Record<string, string> {
  let windowIndex = 0;
  let windowCount = 0;
  return (count) => {
    const index = Math.floor((Date.now() - startedAt) / 60_000);
    if (index !== windowIndex) {
      windowIndex = index;
      windowCount = 0;
    }
    if (count) windowCount += 1;
    return {
      'anthropic-ratelimit-requests-limit': String(limit),
      'anthropic-ratelimit-requests-remaining': String(Math.max(0, limit - windowCount)),
      'anthropic-ratelimit-requests-reset': new Date(startedAt + (index + 1) * 60_000).toISOString(),
    };
  };
}

/**
 * An enforced request limit, for the discovery benchmark: a token bucket refilled at
 * `requestsPerMinute` / 60 per second holding at most `burstSeconds` of them (upstream documents a
 * token bucket, "continuously replenished", but not its capacity: a small burst is the strict case).
 * Answers how long to wait before a request would be admitted, or 0 when it is admitted now.
 */
export function createTokenBucket(
  requestsPerMinute: number,
  burstSeconds: number,
  now: () => number = Date.now,
): () => number {
  const perMs = requestsPerMinute / 60_000;
  const capacity = Math.max(1, (requestsPerMinute / 60) * burstSeconds);
  let tokens = capacity;
  let at = now();
  return () => {
    const t = now();
    tokens = Math.min(capacity, tokens + (t - at) * perMs);
    at = t;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - tokens) / perMs);
  };
}
