/**
 * Where the upstream API key comes from. Deployed, it is a Secrets Manager secret that an operator
 * may replace at any time (a wrong key or a missing scope is fixed by putting a new one): the provider
 * serves a cached value, and after upstream refuses the key it reads the secret again, so warm
 * functions pick up the fix without a redeploy.
 */
export interface ApiKeyProvider {
  current(): Promise<string>;
  /** Upstream refused the key: the next `current()` reads the source again (at most once per interval). */
  refresh(): void;
}

/**
 * Wraps a reader (`force` asks it to bypass its cache) as a provider. Forced reads are spaced by
 * `minRefreshIntervalMs` so that a burst of 401s costs one secret read, not one per request.
 */
export function createApiKeyProvider(
  read: (force: boolean) => Promise<unknown>,
  opts: { minRefreshIntervalMs?: number; now?: () => number } = {},
): ApiKeyProvider {
  const interval = opts.minRefreshIntervalMs ?? 30_000;
  const now = opts.now ?? Date.now;
  let forceNext = false;
  let lastForcedAt = Number.NEGATIVE_INFINITY;
  return {
    async current() {
      const force = forceNext && now() - lastForcedAt >= interval;
      if (force) {
        lastForcedAt = now();
        forceNext = false;
      }
      const value = await read(force);
      const key = typeof value === 'string' ? value.trim() : '';
      if (key.length === 0) throw new Error('the upstream API key secret is empty: put the key in the secret');
      return key;
    },
    refresh() {
      forceNext = true;
    },
  };
}
