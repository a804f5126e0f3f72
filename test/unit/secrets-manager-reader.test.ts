import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-secrets-manager';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  cachedSecretString,
  configuredSecretsManagerEndpoint,
  regionalSecretsManagerEndpoint,
  SecretReadError,
  SecretsManagerReader,
  type SecretStringSource,
} from '../../shared/platform/secrets-manager-reader.js';

// The functions read their secrets with one signed POST instead of the Secrets Manager client
// (shared/platform/secrets-manager-reader.ts). These tests prove that the request is the SDK's for
// the same input, credentials and clock (so Secrets Manager authorizes it as it did the client's),
// that the endpoint is the one the SDK resolves, that every way the read can fail gives an error
// naming the secret and what AWS said but never the secret's value, and that the cache behaves as
// Powertools' getSecret did for the handlers.

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:upstream-key-AbCdEf';
const SECRET = 'sk-ant-api01-do-not-leak-9f8e7d';
const roleCredentials = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret/example+key', sessionToken: 'tok==' };
const userCredentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'other-secret' };

interface Captured {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}
type Behaviour = (n: number, res: ServerResponse) => void;

const captured: Captured[] = [];
let behaviour: Behaviour;
const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => (body += d));
  req.on('end', () => {
    captured.push({ method: req.method, url: req.url, headers: req.headers, body });
    behaviour(captured.length, res);
  });
});
let endpoint: string;

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Behaviour => {
  return (_n, res) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
};
const found = json(200, { ARN, Name: 'upstream-key', SecretString: SECRET, VersionId: 'v1' });

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  endpoint = `http://127.0.0.1:${address.port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
const readers: SecretsManagerReader[] = [];
afterEach(async () => {
  vi.useRealTimers();
  captured.length = 0;
  for (const reader of readers.splice(0)) await reader.close();
});

function reader(opts: ConstructorParameters<typeof SecretsManagerReader>[0] = {}): SecretsManagerReader {
  const r = new SecretsManagerReader({ region: 'us-east-1', credentials: roleCredentials, endpoint, ...opts });
  readers.push(r);
  return r;
}

/**
 * What the SDK client sends for GetSecretValue, without the headers that are its own bookkeeping
 * (its user agent, the retry attempt and a random invocation id, which Secrets Manager does not
 * require): they are removed before it signs, so its signature covers exactly what ours does.
 */
async function sdkRequest(region: string, credentials: typeof roleCredentials | typeof userCredentials) {
  const client = new SecretsManagerClient({ region, endpoint, credentials, maxAttempts: 1 });
  const dropBookkeeping: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => (args) => {
    const headers = (args.request as { headers: Record<string, string> }).headers;
    for (const name of ['user-agent', 'x-amz-user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request'])
      delete headers[name];
    return next(args);
  };
  client.middlewareStack.addRelativeTo(dropBookkeeping, {
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    name: 'dropSdkBookkeepingHeaders',
  });
  try {
    await client.send(new GetSecretValueCommand({ SecretId: ARN }));
  } finally {
    client.destroy();
  }
  return captured.at(-1);
}

/** A request as Secrets Manager verifies it: hop-by-hop `connection` aside, every header counts. */
function asSigned(request: Captured | undefined) {
  const { connection: _hop, ...headers } = request?.headers ?? {};
  return { method: request?.method, url: request?.url, headers, body: request?.body };
}

describe('SecretsManagerReader: the request', () => {
  it.each([
    ['a role session (session token) in us-east-1', 'us-east-1', roleCredentials],
    ['long-term keys in eu-central-1', 'eu-central-1', userCredentials],
    ['the China partition', 'cn-north-1', roleCredentials],
  ])('equals the SDK client’s, header for header and signature for signature: %s', async (_name, region, creds) => {
    // Arrange: one fixed clock for both
    const signingTime = new Date('2026-12-06T12:00:00.000Z');
    vi.useFakeTimers({ toFake: ['Date'], now: signingTime });
    behaviour = found;
    const sdk = asSigned(await sdkRequest(region, creds));

    // Act
    const value = await reader({ region, credentials: creds, now: () => signingTime.getTime() }).secretString(ARN);
    const ours = asSigned(captured.at(-1));

    // Assert
    expect(value).toBe(SECRET);
    expect(ours).toEqual(sdk);
    expect(ours.headers['authorization']).toMatch(new RegExp(`/20261206/${region}/secretsmanager/aws4_request`));
    if ('sessionToken' in creds) {
      expect(ours.headers['x-amz-security-token']).toBe(creds.sessionToken);
      expect(ours.headers['authorization']).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
    } else expect(ours.headers).not.toHaveProperty('x-amz-security-token');
  });

  it('sends GetSecretValue as awsJson1_1 asks: POST /, the target, the content type, {"SecretId"}', async () => {
    behaviour = found;

    await reader().secretString(ARN);

    expect(captured).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/',
        headers: expect.objectContaining({
          'x-amz-target': 'secretsmanager.GetSecretValue',
          'content-type': 'application/x-amz-json-1.1',
        }),
        body: JSON.stringify({ SecretId: ARN }),
      }),
    ]);
  });
});

describe('SecretsManagerReader: the endpoint', () => {
  it.each(['us-east-1', 'eu-central-1', 'cn-north-1', 'cn-northwest-1', 'us-gov-west-1'])(
    'is the regional endpoint the SDK resolves in %s',
    async (region) => {
      const client = new SecretsManagerClient({ region });
      const resolved = client.config.endpointProvider({ Region: region, UseFIPS: false, UseDualStack: false });
      client.destroy();

      expect(regionalSecretsManagerEndpoint(region, {})).toBe(resolved.url.href.replace(/\/$/, ''));
    },
  );

  it('comes from AWS_ENDPOINT_URL_SECRETS_MANAGER first, then AWS_ENDPOINT_URL, unless told to ignore them', () => {
    const specific = 'http://127.0.0.1:4566/sm';
    const global = 'http://127.0.0.1:4567';

    expect(
      configuredSecretsManagerEndpoint({ AWS_ENDPOINT_URL_SECRETS_MANAGER: specific, AWS_ENDPOINT_URL: global }),
    ).toBe(specific);
    expect(configuredSecretsManagerEndpoint({ AWS_ENDPOINT_URL: global })).toBe(global);
    expect(configuredSecretsManagerEndpoint({})).toBeUndefined();
    expect(
      configuredSecretsManagerEndpoint({ AWS_ENDPOINT_URL: global, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }),
    ).toBeUndefined();
  });

  it('refuses FIPS or dual-stack asked for without an endpoint, rather than quietly using the plain one', () => {
    expect(() => regionalSecretsManagerEndpoint('us-east-1', { AWS_USE_FIPS_ENDPOINT: 'true' })).toThrow(
      /AWS_USE_FIPS_ENDPOINT.*AWS_ENDPOINT_URL_SECRETS_MANAGER/,
    );
    expect(() => regionalSecretsManagerEndpoint('us-east-1', { AWS_USE_DUALSTACK_ENDPOINT: 'true' })).toThrow(
      /AWS_USE_DUALSTACK_ENDPOINT/,
    );
  });
});

/** Every text the error carries, its causes' included: none may hold the secret's value. */
function allText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) parts.push(String(e), e.stack ?? '');
  return parts.join('\n') + JSON.stringify(err);
}

async function failure(read: Promise<unknown>): Promise<SecretReadError> {
  const err = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretReadError);
  expect(allText(err)).not.toContain(SECRET);
  return err as SecretReadError;
}

describe('SecretsManagerReader: failures', () => {
  it('names the secret, the status, the error type and message of a 400 ResourceNotFoundException', async () => {
    behaviour = json(400, {
      __type: 'com.amazonaws.secretsmanager#ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });

    const err = await failure(reader().secretString(ARN));

    expect(err.message).toBe(
      `Secrets Manager GetSecretValue of ${ARN} failed: HTTP 400 ResourceNotFoundException: ` +
        "Secrets Manager can't find the specified secret.",
    );
    expect([err.status, err.errorType, err.secretId]).toEqual([400, 'ResourceNotFoundException', ARN]);
    expect(captured).toHaveLength(1);
  });

  it('takes the error type from x-amzn-ErrorType (a 403 AccessDeniedException) and is not retried', async () => {
    behaviour = json(
      403,
      { Message: 'User is not authorized to perform: secretsmanager:GetSecretValue' },
      { 'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/' },
    );

    const err = await failure(reader().secretString(ARN));

    expect(err.message).toContain(
      `${ARN} failed: HTTP 403 AccessDeniedException: User is not authorized to perform: secretsmanager:GetSecretValue`,
    );
    expect(captured).toHaveLength(1);
  });

  it('tries a 500 three times, as the SDK’s standard retry mode, then names the status', async () => {
    behaviour = json(500, { __type: 'InternalServiceError', message: 'An error occurred on the server side.' });

    const err = await failure(reader().secretString(ARN));

    expect(err.message).toContain(`${ARN} failed: HTTP 500 InternalServiceError`);
    expect(captured).toHaveLength(3);
  });

  it('gets past one 500, one throttling answer, one reset connection, one cut-off answer', async () => {
    for (const first of [
      json(500, {}),
      json(400, { __type: 'ThrottlingException', message: 'Rate exceeded' }),
      (_n: number, res: ServerResponse) => res.socket?.destroy(),
      (_n: number, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': '200' });
        res.write(`{"SecretString":"${SECRET.slice(0, 5)}`, () => res.socket?.destroy());
      },
    ]) {
      captured.length = 0;
      behaviour = (n, res) => (n === 1 ? first(n, res) : found(n, res));

      expect(await reader().secretString(ARN)).toBe(SECRET);
      expect(captured).toHaveLength(2);
    }
  });

  it('says an error answer is not JSON, without quoting it', async () => {
    behaviour = (_n, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(`<html>Bad gateway ${SECRET}</html>`);
    };

    const err = await failure(reader().secretString(ARN));

    expect(err.message).toBe(`Secrets Manager GetSecretValue of ${ARN} failed: HTTP 502 (the answer is not JSON)`);
  });

  it('refuses a 200 that is not JSON without quoting it (it may hold the secret)', async () => {
    behaviour = json(200, `{"SecretString":"${SECRET}"`);

    const err = await failure(reader().secretString(ARN));

    expect(err.message).toBe(
      `Secrets Manager GetSecretValue of ${ARN} failed: HTTP 200 with an answer that is not JSON`,
    );
  });

  it('says when the secret holds SecretBinary only, and when SecretString is missing', async () => {
    behaviour = json(200, { ARN, Name: 'k', SecretBinary: Buffer.from(SECRET).toString('base64') });
    expect((await failure(reader().secretString(ARN))).message).toMatch(/holds SecretBinary, not SecretString/);

    behaviour = json(200, { ARN, Name: 'k', VersionId: 'v1' });
    expect((await failure(reader().secretString(ARN))).message).toMatch(/HTTP 200 without a SecretString/);
  });

  it('gives up within its time bound when Secrets Manager does not answer', async () => {
    behaviour = () => undefined;
    const started = performance.now();

    const err = await failure(reader({ timeoutMs: 300 }).secretString(ARN));

    expect(err.message).toBe(`Secrets Manager GetSecretValue of ${ARN} failed: no answer within 300 ms`);
    // Generous against load: what matters is that it ends, not when.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('refuses an empty secret ARN before any request', async () => {
    const err = await failure(reader().secretString(''));

    expect(err.message).toMatch(/no secret ARN configured/);
    expect(captured).toHaveLength(0);
  });

  it('answers any status and body with the string or a SecretReadError, never with the value (property)', async () => {
    const r = reader({ timeoutMs: 2_000 });
    await fc.assert(
      fc.asyncProperty(
        // The statuses answered at once (those retried are the tests above: a property over their
        // backoff would spend its time waiting).
        fc.constantFrom(200, 400, 403, 404),
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.record({ SecretBinary: fc.constant(SECRET) }),
          fc.record({ __type: fc.string(), message: fc.string(), SecretString: fc.constant(SECRET) }),
        ),
        async (status, body) => {
          behaviour = json(status, body);
          const outcome = await r.secretString(ARN).then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          );
          if ('value' in outcome) expect(status).toBe(200);
          else {
            expect(outcome.error).toBeInstanceOf(SecretReadError);
            expect(allText(outcome.error)).not.toContain(SECRET);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('cachedSecretString', () => {
  function countingSource(values: (string | Error)[]): SecretStringSource & { reads: number } {
    const source = {
      reads: 0,
      secretString: async () => {
        const next = values[Math.min(source.reads, values.length - 1)];
        source.reads++;
        if (next instanceof Error) throw next;
        return next ?? '';
      },
    };
    return source;
  }

  it('serves the value read for maxAge seconds, then reads again', async () => {
    let now = 1_000_000;
    const source = countingSource(['first', 'second']);
    const read = cachedSecretString(source, ARN, { maxAgeSeconds: 300, now: () => now });

    expect(await read()).toBe('first');
    now += 299_999;
    expect(await read()).toBe('first');
    now += 1;
    expect(await read()).toBe('second');
    expect(source.reads).toBe(2);
  });

  it('reads again at once when forced, and serves the new value from then on', async () => {
    const now = 1_000_000;
    const source = countingSource(['old', 'new']);
    const read = cachedSecretString(source, ARN, { maxAgeSeconds: 60, now: () => now });

    expect(await read()).toBe('old');
    expect(await read(true)).toBe('new');
    expect(await read()).toBe('new');
    expect(source.reads).toBe(2);
  });

  it('does not cache a failed read: the next call reads again', async () => {
    const source = countingSource([new Error('AccessDeniedException'), 'value']);
    const read = cachedSecretString(source, ARN, { maxAgeSeconds: 300, now: () => 0 });

    await expect(read()).rejects.toThrow('AccessDeniedException');
    expect(await read()).toBe('value');
    expect(source.reads).toBe(2);
  });

  it('makes its reader on first use only (a function given its key in the environment never needs one)', async () => {
    const make = vi.fn(() => countingSource(['v']));
    const read = cachedSecretString(make, ARN, { maxAgeSeconds: 300 });

    expect(make).not.toHaveBeenCalled();
    expect(await read()).toBe('v');
    expect(make).toHaveBeenCalledTimes(1);
  });
});
