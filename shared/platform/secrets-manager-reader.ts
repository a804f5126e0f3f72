/**
 * Reads a Secrets Manager secret's string (GetSecretValue) as one signed HTTPS request, without the
 * Secrets Manager client or Powertools' parameters utility: loading and initialising those two cost
 * about 8 ms of every cold start of the functions that read the upstream API key at start-up
 * (docs/benchmark.md), and the read is a single call with a single field in and one field out.
 * The parts that matter are the SDK's own: the SigV4 signer (@smithy/signature-v4) and its SHA-256,
 * the credential provider the clients use (in the Lambda bundles the environment's:
 * shared/platform/lambda-credential-provider.ts) and the partition table; the transport is node:https,
 * which the SDK's HTTP handler already loads (see `post` for why not undici).
 * test/unit/secrets-manager-reader.test.ts checks that the request equals the SDK's, header for
 * header and signature for signature.
 *
 * The request (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html):
 * Secrets Manager speaks the awsJson1_1 protocol, a POST of `/` with
 * `X-Amz-Target: secretsmanager.GetSecretValue`, `Content-Type: application/x-amz-json-1.1` and the
 * body `{"SecretId": ...}`; the answer carries the value in `SecretString` (or `SecretBinary`, for a
 * secret stored as bytes). An error answer names its type in the `x-amzn-ErrorType` header or the
 * body's `__type`, possibly prefixed by a namespace (`…#`) and followed by `:…`, and its message in
 * `message` or `Message` (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html;
 * the types: https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html).
 *
 * The signature (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
 * SigV4 in the Authorization header, service `secretsmanager`, the signing region the endpoint's;
 * temporary credentials (a Lambda role's) add the `X-Amz-Security-Token` header, signed with the rest.
 *
 * The endpoint: `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else `AWS_ENDPOINT_URL` (the SDKs' service-specific
 * and global endpoint variables, ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is `true`:
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), else the regional
 * endpoint `https://secretsmanager.<region>.<partition's DNS suffix>`
 * (https://docs.aws.amazon.com/general/latest/gr/asm.html): amazonaws.com, amazonaws.com.cn in China.
 * Not covered by the built-in endpoint: FIPS (`secretsmanager-fips.…`) and dual-stack endpoints;
 * a deployment that needs one sets it in AWS_ENDPOINT_URL_SECRETS_MANAGER, and asking for one with
 * AWS_USE_FIPS_ENDPOINT or AWS_USE_DUALSTACK_ENDPOINT without it is refused rather than ignored.
 *
 * Bounded: the whole read, retries included, ends within `timeoutMs` (5 s by default), so a cold
 * start cannot hang on it. A failed connection, a 5xx, a 429 or a throttling answer is tried again
 * within that bound, 3 attempts in all, as the SDKs' standard retry mode
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html): GetSecretValue only
 * reads, so sending it twice is harmless, and a kept-alive connection that died while the function
 * was frozen fails the first attempt only.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { partition } from '@aws-sdk/core/client';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Agent as HttpAgent } from 'node:http';
import https from 'node:https';
import { sleepFor } from './abortable-sleep.js';
import { backoffMs } from './backoff.js';
import { ArchiverError } from './errors.js';

/** A GetSecretValue that did not give a secret string: the secret, and what AWS answered. Never the value. */
export class SecretReadError extends ArchiverError {
  constructor(
    readonly secretId: string,
    reason: string,
    readonly status?: number,
    readonly errorType?: string,
    opts: { cause?: unknown } = {},
  ) {
    super(`Secrets Manager GetSecretValue of ${secretId} failed: ${reason}`, opts);
  }
}

export interface SecretsManagerReaderOptions {
  /** The signing region (and the built-in endpoint's); default AWS_REGION, which Lambda sets. */
  region?: string | undefined;
  /** Default: the SDK's credential chain (in the Lambda bundles, the environment's). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
  /** An endpoint override; default from the environment (see the module's comment), else the regional one. */
  endpoint?: string | undefined;
  /** The bound on one read, retries included. */
  timeoutMs?: number | undefined;
  /** The clock requests are signed with (tests fix it). */
  now?: (() => number) | undefined;
}

/** Sees each GetSecretValue sent, and how it ended (tests record it as the function's AWS call). */
export type SecretReadListener = (call: {
  operation: 'GetSecretValue';
  input: { SecretId: string };
  outcome: 'ok' | 'failed';
}) => void;

const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_ATTEMPTS = 3;
/** The SDK's standard retry mode's base delay (100 ms, doubling), capped well within the bound. */
const RETRY_BACKOFF = { baseMs: 100, capMs: 1_000, jitter: 0.5 };
/** Error types Secrets Manager answers with when a retry may succeed (the status aside). */
const RETRYABLE_TYPES = new Set(['ThrottlingException', 'TooManyRequestsException', 'RequestTimeout']);

/** The endpoint the environment configures for Secrets Manager, as the SDKs read it. */
export function configuredSecretsManagerEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']?.toLowerCase() === 'true') return undefined;
  return env['AWS_ENDPOINT_URL_SECRETS_MANAGER'] || env['AWS_ENDPOINT_URL'] || undefined;
}

/** The regional endpoint (the partition's DNS suffix), or a refusal of what this module does not build. */
export function regionalSecretsManagerEndpoint(region: string, env: NodeJS.ProcessEnv = process.env): string {
  for (const name of ['AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT']) {
    if (env[name]?.toLowerCase() === 'true')
      throw new Error(`${name} is set: put the Secrets Manager endpoint to use in AWS_ENDPOINT_URL_SECRETS_MANAGER`);
  }
  return `https://secretsmanager.${region}.${partition(region).dnsSuffix}`;
}

export class SecretsManagerReader {
  private readonly signer: SignatureV4;
  private readonly region: string;
  private readonly endpoint: URL;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly listeners: SecretReadListener[] = [];
  private agent: HttpAgent | undefined;

  constructor(options: SecretsManagerReaderOptions = {}) {
    const region = options.region ?? process.env['AWS_REGION'];
    if (!region) throw new Error('no AWS region for Secrets Manager: set AWS_REGION');
    this.region = region;
    this.endpoint = new URL(
      options.endpoint ?? configuredSecretsManagerEndpoint() ?? regionalSecretsManagerEndpoint(region),
    );
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
    // As the SDK's clients configure the signer for an awsJson service (the payload's hash sent in
    // x-amz-content-sha256 too, the path escaped as SigV4 asks of every service but S3).
    this.signer = new SignatureV4({
      service: 'secretsmanager',
      region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: Sha256,
    });
  }

  /** Adds a listener told of every GetSecretValue from now on. */
  onRead(listener: SecretReadListener): void {
    this.listeners.push(listener);
  }

  /** The secret's current SecretString (one GetSecretValue, retried as the module's comment says). */
  async secretString(secretId: string): Promise<string> {
    if (secretId.length === 0) throw new SecretReadError('(none)', 'no secret ARN configured');
    let outcome: 'ok' | 'failed' = 'failed';
    try {
      const value = await this.read(secretId);
      outcome = 'ok';
      return value;
    } finally {
      for (const listener of this.listeners)
        listener({ operation: 'GetSecretValue', input: { SecretId: secretId }, outcome });
    }
  }

  /** Closes the kept-alive connection (tests; a Lambda keeps it for the next forced read). */
  async close(): Promise<void> {
    this.agent?.destroy();
    this.agent = undefined;
  }

  /**
   * The POST, over node:https: the SDK's HTTP handler already loads it into every bundle that has an
   * SDK client, and its parser is Node's own, where undici (the upstream transport) compiles its
   * WebAssembly parser on its first connection, a cost the cold start would otherwise pay here
   * (docs/benchmark.md). node:http, for a plain-HTTP endpoint (local servers), is loaded only then.
   */
  private async post(
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
  ): Promise<{ status: number; errorTypeHeader: string | string[] | undefined; text: string }> {
    const tls = this.endpoint.protocol === 'https:';
    const transport = tls ? https : await import('node:http');
    this.agent ??= new transport.Agent({ keepAlive: true, maxSockets: 1 });
    const agent = this.agent;
    const { hostname, port, pathname } = this.endpoint;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        { method: 'POST', hostname, port, path: pathname, headers, agent, signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          // An answer cut off (the connection closed before its end) is an 'aborted' error here.
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              errorTypeHeader: res.headers['x-amzn-errortype'],
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  private async read(secretId: string): Promise<string> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(secretId, deadline);
      } catch (err) {
        if (deadline.aborted) {
          throw new SecretReadError(secretId, `no answer within ${this.timeoutMs} ms`, undefined, undefined, {
            cause: err,
          });
        }
        if (!(err instanceof RetryableFailure) || attempt >= MAX_ATTEMPTS) throw unwrap(err);
        try {
          await sleepFor(backoffMs(RETRY_BACKOFF, attempt - 1), deadline);
        } catch {
          throw new SecretReadError(secretId, `no answer within ${this.timeoutMs} ms`, undefined, undefined, {
            cause: err.failure,
          });
        }
      }
    }
  }

  /** One signed POST: the secret string, or a SecretReadError (wrapped in RetryableFailure when worth another try). */
  private async attempt(secretId: string, signal: AbortSignal): Promise<string> {
    const body = JSON.stringify({ SecretId: secretId });
    const { protocol, hostname, port, pathname } = this.endpoint;
    const unsigned = new HttpRequest({
      method: 'POST',
      protocol,
      hostname,
      ...(port ? { port: Number(port) } : {}),
      path: pathname,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
        'content-length': String(Buffer.byteLength(body)),
        host: port ? `${hostname}:${port}` : hostname,
      },
      body,
    });
    const signed = await this.signer.sign(unsigned, { signingDate: new Date(this.now()), signingRegion: this.region });
    let status: number;
    let errorTypeHeader: string | string[] | undefined;
    let text: string;
    try {
      ({ status, errorTypeHeader, text } = await this.post(signed.headers, body, signal));
    } catch (err) {
      // A connection refused or reset (a kept-alive one closed while the function was frozen), or the deadline.
      throw new RetryableFailure(
        new SecretReadError(secretId, `the request failed (${describe(err)})`, undefined, undefined, { cause: err }),
      );
    }
    const json = parseJson(text);
    if (status < 200 || status > 299) {
      const errorType = errorTypeOf(typeof errorTypeHeader === 'string' ? errorTypeHeader : undefined, json);
      const message = messageOf(json);
      const reason =
        `HTTP ${status}${errorType ? ` ${errorType}` : ''}` +
        (message ? `: ${message}` : json === undefined && text.length > 0 ? ' (the answer is not JSON)' : '');
      const error = new SecretReadError(secretId, reason, status, errorType);
      const retryable = status >= 500 || status === 429 || (errorType !== undefined && RETRYABLE_TYPES.has(errorType));
      throw retryable ? new RetryableFailure(error) : error;
    }
    // From here on the body holds the secret: nothing of it goes into an error.
    if (json === undefined)
      throw new SecretReadError(secretId, `HTTP ${status} with an answer that is not JSON`, status);
    const secretString = json['SecretString'];
    if (typeof secretString === 'string') return secretString;
    if (json['SecretBinary'] !== undefined)
      throw new SecretReadError(secretId, 'the secret holds SecretBinary, not SecretString: put the value as text');
    throw new SecretReadError(secretId, `HTTP ${status} without a SecretString`, status);
  }
}

/** A failure another attempt may get past; `failure` is what the caller sees when none is left. */
class RetryableFailure extends Error {
  constructor(readonly failure: SecretReadError) {
    super(failure.message);
  }
}

function unwrap(err: unknown): unknown {
  return err instanceof RetryableFailure ? err.failure : err;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The error's shape name: `aws.namespace#Name:http://…` gives `Name` (awsJson1_1's rule). */
function errorTypeOf(header: string | undefined, json: Record<string, unknown> | undefined): string | undefined {
  const raw = header ?? (typeof json?.['__type'] === 'string' ? json['__type'] : undefined);
  if (raw === undefined) return undefined;
  const name = raw.split(':')[0]?.split('#').pop()?.trim();
  return name ? name.slice(0, 100) : undefined;
}

function messageOf(json: Record<string, unknown> | undefined): string | undefined {
  const message = json?.['message'] ?? json?.['Message'];
  return typeof message === 'string' ? message.slice(0, 500) : undefined;
}

/** What the cache reads through: a SecretsManagerReader. */
export type SecretStringSource = Pick<SecretsManagerReader, 'secretString'>;

let processReader: SecretsManagerReader | undefined;

/**
 * The process's reader, made on first use from the environment (the region, credentials and endpoint
 * Lambda gives the function), so a handler configured with a key in its environment never needs one.
 */
export function processSecretsManagerReader(): SecretsManagerReader {
  processReader ??= new SecretsManagerReader();
  return processReader;
}

/**
 * A cached reader of one secret, with what the handlers had from Powertools' getSecret: the value
 * served for `maxAgeSeconds` after a successful read, `forceFetch` reading again at once; a failed
 * read is not cached (the next call tries again).
 */
export function cachedSecretString(
  reader: SecretStringSource | (() => SecretStringSource),
  secretId: string,
  opts: { maxAgeSeconds: number; now?: () => number },
): (forceFetch?: boolean) => Promise<string> {
  const now = opts.now ?? Date.now;
  let cached: { value: string; expiresAt: number } | undefined;
  return async (forceFetch = false) => {
    if (!forceFetch && cached && now() < cached.expiresAt) return cached.value;
    const source = typeof reader === 'function' ? reader() : reader;
    const value = await source.secretString(secretId);
    cached = { value, expiresAt: now() + opts.maxAgeSeconds * 1000 };
    return value;
  };
}
