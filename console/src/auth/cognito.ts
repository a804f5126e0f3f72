/**
 * Sign-in for the deployed console, without an SDK: the Cognito user pool's hosted sign-in (OAuth 2.0
 * authorization code with PKCE, federated to the organization's IdP), then the identity pool trades
 * the ID token for temporary AWS credentials of the role its group maps to (auditor or legal admin).
 *
 * - Authorization and token endpoints, PKCE:
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html
 * - Identity pool (enhanced flow): GetId, then GetCredentialsForIdentity with the same Logins map,
 *   keyed `cognito-idp.<region>.amazonaws.com/<userPoolId>`; unsigned JSON calls:
 *   https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetId.html
 *   https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetCredentialsForIdentity.html
 * - Role from the user's groups (the token's cognito:preferred_role, by group precedence):
 *   https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html
 *
 * Tokens and credentials live in sessionStorage only (gone when the tab closes), never in a URL
 * after the code exchange, and are never logged.
 */
import type { AuthConfig } from '../config.js';
import type { TemporaryCredentials } from '../api/signing.js';

type CognitoAuth = Extract<AuthConfig, { kind: 'cognito' }>;

const VERIFIER_KEY = 'archiver.pkce';
const TOKEN_KEY = 'archiver.idToken';

export interface SignedIn {
  /** Who the console shows as signed in (the token's e-mail, or its subject). */
  caller: string;
  /** Temporary credentials, refreshed a minute before they expire. */
  credentials(): Promise<TemporaryCredentials>;
}

/** Reads the sign-in state; returns undefined after starting a redirect to the sign-in page. */
export async function signIn(
  auth: CognitoAuth,
  region: string,
  fetchImpl: typeof fetch = fetch,
): Promise<SignedIn | undefined> {
  const here = new URL(window.location.href);
  const code = here.searchParams.get('code');
  let idToken = sessionStorage.getItem(TOKEN_KEY);
  if (code) {
    const saved = JSON.parse(sessionStorage.getItem(VERIFIER_KEY) ?? 'null') as {
      verifier: string;
      state: string;
      hash: string;
    } | null;
    sessionStorage.removeItem(VERIFIER_KEY);
    if (!saved || saved.state !== here.searchParams.get('state'))
      throw new Error('The sign-in answer does not match the sign-in this tab started; sign in again.');
    idToken = await exchangeCode(auth, code, saved.verifier, redirectUri(), fetchImpl);
    sessionStorage.setItem(TOKEN_KEY, idToken);
    // Drop the code from the address bar; restore the screen the user asked for.
    window.history.replaceState(null, '', `${redirectUri()}${saved.hash}`);
  }
  if (!idToken || tokenExpired(idToken)) {
    sessionStorage.removeItem(TOKEN_KEY);
    await redirectToSignIn(auth);
    return undefined;
  }
  const token = idToken;
  const claims = decodeJwtPayload(token);
  let cached: TemporaryCredentials | undefined;
  return {
    caller: typeof claims['email'] === 'string' ? claims['email'] : String(claims['sub'] ?? 'signed in'),
    async credentials() {
      if (!cached || cached.expiresAt - Date.now() < 60_000)
        cached = await credentialsFor(auth, region, token, fetchImpl);
      return cached;
    },
  };
}

export function signOut(auth: CognitoAuth): void {
  sessionStorage.removeItem(TOKEN_KEY);
  const url = new URL('/logout', auth.userPoolDomain);
  url.searchParams.set('client_id', auth.userPoolClientId);
  url.searchParams.set('logout_uri', redirectUri());
  window.location.assign(url.toString());
}

function redirectUri(): string {
  return `${window.location.origin}/`;
}

async function redirectToSignIn(auth: CognitoAuth): Promise<void> {
  const verifier = base64Url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64Url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64Url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  sessionStorage.setItem(VERIFIER_KEY, JSON.stringify({ verifier, state, hash: window.location.hash }));
  const url = new URL('/oauth2/authorize', auth.userPoolDomain);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', auth.userPoolClientId);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('scope', 'openid email profile');
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  if (auth.identityProvider) url.searchParams.set('identity_provider', auth.identityProvider);
  window.location.assign(url.toString());
}

async function exchangeCode(
  auth: CognitoAuth,
  code: string,
  verifier: string,
  redirect: string,
  fetchImpl: typeof fetch,
): Promise<string> {
  const res = await fetchImpl(new URL('/oauth2/token', auth.userPoolDomain).toString(), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: auth.userPoolClientId,
      code,
      redirect_uri: redirect,
      code_verifier: verifier,
    }).toString(),
  });
  const body = (await res.json().catch(() => ({}))) as { id_token?: unknown };
  if (!res.ok || typeof body.id_token !== 'string') throw new Error(`Sign-in failed (${res.status}); sign in again.`);
  return body.id_token;
}

/** Trades an ID token for the identity pool role's temporary credentials (GetId, GetCredentialsForIdentity). */
export async function credentialsFor(
  auth: Pick<CognitoAuth, 'userPoolId' | 'identityPoolId'>,
  region: string,
  idToken: string,
  fetchImpl: typeof fetch = fetch,
  endpoint = `https://cognito-identity.${region}.amazonaws.com/`,
): Promise<TemporaryCredentials> {
  const logins = { [`cognito-idp.${region}.amazonaws.com/${auth.userPoolId}`]: idToken };
  const call = async (target: string, payload: unknown): Promise<Record<string, unknown>> => {
    const res = await fetchImpl(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityService.${target}` },
      body: JSON.stringify(payload),
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) throw new Error(`Could not get credentials (${target}: ${String(body['__type'] ?? res.status)}).`);
    return body;
  };
  const { IdentityId } = await call('GetId', { IdentityPoolId: auth.identityPoolId, Logins: logins });
  if (typeof IdentityId !== 'string') throw new Error('Could not get credentials (no identity id).');
  const { Credentials: c } = await call('GetCredentialsForIdentity', { IdentityId, Logins: logins });
  const creds = c as
    | { AccessKeyId?: unknown; SecretKey?: unknown; SessionToken?: unknown; Expiration?: unknown }
    | undefined;
  if (
    typeof creds?.AccessKeyId !== 'string' ||
    typeof creds.SecretKey !== 'string' ||
    typeof creds.SessionToken !== 'string' ||
    typeof creds.Expiration !== 'number'
  )
    throw new Error('Could not get credentials (incomplete answer).');
  // Expiration is in seconds since the epoch (the API's JSON timestamp form).
  return {
    accessKeyId: creds.AccessKeyId,
    secretAccessKey: creds.SecretKey,
    sessionToken: creds.SessionToken,
    expiresAt: creds.Expiration * 1000,
  };
}

function tokenExpired(token: string): boolean {
  const exp = decodeJwtPayload(token)['exp'];
  return typeof exp !== 'number' || exp * 1000 < Date.now() + 60_000;
}

/** Reads a JWT's claims for display and expiry only; the identity pool verifies the signature. */
export function decodeJwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const parsed: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (ch) => ch.charCodeAt(0))));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function base64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
