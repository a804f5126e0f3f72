/**
 * The auditor console's security headers, one definition for both places that serve it: CloudFront's
 * response headers policy (infra/constructs/auditor-console.ts) and the local console server
 * (local/console-server.ts), so what the end-to-end tests run under is what is deployed.
 *
 * The Content-Security-Policy allows only the console's own scripts and styles (no inline code, no
 * eval) and connections to exactly the origins it calls: the lookup API, the archive bucket (the
 * presigned downloads it verifies) and, deployed, Cognito's sign-in and identity endpoints.
 */
export function consoleContentSecurityPolicy(connectOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${connectOrigins.join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** Headers besides the CSP, as CloudFront's security headers policy sets them. */
export const CONSOLE_SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
} as const;

/** The browser origin of a URL (scheme, host, port): what CORS and connect-src name. */
export function originOf(url: string): string {
  return new URL(url).origin;
}
