import { assertUpstreamBaseUrl } from '../shared/contracts/upstream-base-url.js';

/** Which upstream `npm start` archives from. */
export type UpstreamChoice = { kind: 'sample' } | { kind: 'real'; baseUrl: string; apiKey: string };

export const DEFAULT_UPSTREAM_URL = 'https://api.anthropic.com';

/**
 * Reads the local stack's upstream settings from the environment, before any server starts: with
 * ANTHROPIC_API_KEY set, the real API at ANTHROPIC_BASE_URL (default https://api.anthropic.com), which
 * must be https:// unless it is on loopback, because the key goes with every request; without it,
 * the built-in sample upstream (ANTHROPIC_BASE_URL is then unused).
 */
export function chooseUpstream(env: NodeJS.ProcessEnv): UpstreamChoice {
  const apiKey = env['ANTHROPIC_API_KEY'];
  if (!apiKey) return { kind: 'sample' };
  const baseUrl = assertUpstreamBaseUrl(env['ANTHROPIC_BASE_URL'] || DEFAULT_UPSTREAM_URL, 'ANTHROPIC_BASE_URL');
  return { kind: 'real', baseUrl, apiKey };
}
