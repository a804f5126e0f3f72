/**
 * The upstream has one request budget per limit: the Compliance API allows 600 requests per minute
 * per organization, shared by every key, poller and worker; the Files API has limits of its own. A
 * gate is asked before every request and told about every 429, so that every caller draws from the
 * same budget (see shared/discovery/rate-budget.ts for the shared one).
 */
export type UpstreamApi = 'compliance' | 'files_api';

export interface RequestGate {
  /** Resolves when one request to `api` may be sent; rejects when no budget came in time. */
  admit(api: UpstreamApi, signal: AbortSignal): Promise<void>;
  /** Upstream answered 429 all the same: honour `retry-after` and shrink the budget. Never throws. */
  throttled(api: UpstreamApi, retryAfterMs: number | undefined): Promise<void>;
}

/** Which budget a request path draws from. */
export function apiOfPath(path: string): UpstreamApi {
  return path.startsWith('/v1/files') ? 'files_api' : 'compliance';
}
