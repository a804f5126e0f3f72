/**
 * The console's settings, read at start from `config.json` beside index.html: written by the CDK
 * deployment (a BucketDeployment of the stack's outputs) or by `npm start`, never baked into the
 * build, so one build serves every stack. The file is validated here: a console with a broken
 * config says so instead of calling the wrong place.
 */
export type AuthConfig =
  | { kind: 'local'; caller: string }
  | {
      kind: 'cognito';
      /** The user pool's domain, e.g. https://archiver-auditors.auth.eu-west-1.amazoncognito.com */
      userPoolDomain: string;
      userPoolId: string;
      userPoolClientId: string;
      identityPoolId: string;
      /** The federated IdP's name in the user pool; the sign-in page goes straight to it. */
      identityProvider?: string;
    };

export interface ConsoleConfig {
  /** The lookup API's base URL, stage included. */
  apiUrl: string;
  region: string;
  auth: AuthConfig;
}

/** Validates the parsed config.json; throws an Error naming the first problem. */
export function parseConsoleConfig(raw: unknown): ConsoleConfig {
  const o = object(raw, 'config.json');
  const apiUrl = url(o['apiUrl'], 'apiUrl');
  const region = string(o['region'], 'region');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new Error(`config.json: region "${region}" is not an AWS region`);
  const a = object(o['auth'], 'auth');
  if (a['kind'] === 'local')
    return { apiUrl, region, auth: { kind: 'local', caller: string(a['caller'], 'auth.caller') } };
  if (a['kind'] === 'cognito') {
    const auth: AuthConfig = {
      kind: 'cognito',
      userPoolDomain: url(a['userPoolDomain'], 'auth.userPoolDomain'),
      userPoolId: string(a['userPoolId'], 'auth.userPoolId'),
      userPoolClientId: string(a['userPoolClientId'], 'auth.userPoolClientId'),
      identityPoolId: string(a['identityPoolId'], 'auth.identityPoolId'),
    };
    if (a['identityProvider'] !== undefined)
      auth.identityProvider = string(a['identityProvider'], 'auth.identityProvider');
    return { apiUrl, region, auth };
  }
  throw new Error('config.json: auth.kind must be "local" or "cognito"');
}

function object(v: unknown, name: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error(`config.json: ${name} must be an object`);
  return v as Record<string, unknown>;
}

function string(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`config.json: ${name} must be a non-empty string`);
  return v;
}

function url(v: unknown, name: string): string {
  const s = string(v, name);
  let parsed: URL;
  try {
    parsed = new URL(s);
  } catch {
    throw new Error(`config.json: ${name} is not a URL`);
  }
  const loopback = parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost';
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback))
    throw new Error(`config.json: ${name} must be https (plain http only to this machine)`);
  return s;
}
