import * as z from './zod.js';
import { ConfigurationError } from '../platform/errors.js';

/**
 * The upstream (Anthropic) base URL. Every request to it carries the organization's API key in the
 * `x-api-key` header, so the key may only travel over TLS: the URL must be `https://`, except for a
 * loopback host (127.0.0.0/8, ::1, `localhost`), where the bytes never leave the machine (the local
 * stack's sample upstream and the tests' upstream listen on 127.0.0.1 over plain HTTP).
 *
 * One rule, applied wherever a base URL enters: the Lambda environment schema
 * (lambda-environment.ts), the deployment configuration (infra/deployment-config.ts), the local stack's
 * choice of upstream (local/upstream-settings.ts) and every upstream request itself
 * (shared/upstream/upstream-request.ts, which the upstream and listing clients send through).
 */

export const UPSTREAM_URL_RULE =
  'must be an https:// URL (plain http:// only for a loopback host: 127.0.0.0/8, ::1, localhost), ' +
  'because the API key travels with every request';

/**
 * Whether a URL's host is loopback. Takes the WHATWG-normalised `hostname` of a parsed URL, in which
 * IPv4 shorthands (`127.1`, `2130706433`) are already written out as dotted quads and IPv6 addresses
 * are bracketed and compressed (`[::1]`).
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  const quad = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  // biome-ignore lint/complexity/useOptionalChain: the result must be a boolean, not undefined
  return quad !== null && quad.slice(1).every((octet) => Number(octet) <= 255);
}

/** The problem with `url` as an upstream base URL, or undefined when it is acceptable. */
export function upstreamBaseUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL';
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return undefined;
  return UPSTREAM_URL_RULE;
}

/**
 * Throws a ConfigurationError when `url` would send the API key in clear text; returns it unchanged
 * otherwise. The message names the setting, not the URL (which could carry credentials of its own).
 */
export function assertUpstreamBaseUrl(url: string, name = 'the upstream base URL'): string {
  const problem = upstreamBaseUrlProblem(url);
  if (problem !== undefined) throw new ConfigurationError(`${name} ${problem}`);
  return url;
}

/** Zod form of the rule, for configuration schemas. */
export const UpstreamBaseUrlSchema = z.string().check(
  z.superRefine((url, ctx) => {
    const problem = upstreamBaseUrlProblem(url);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
);
