import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent as UndiciIndexAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLING, LAMBDA_CREDENTIAL_PROVIDER } from '../../infra/constructs/archiver-function.js';
import * as lambdaCredentials from '../../shared/platform/lambda-credential-provider.js';
import { Agent, request } from '../../shared/upstream/undici-parts.js';

// The parts the Lambda bundles use in place of heavier modules (docs/benchmark.md, "Bundle size and
// cold start"): the SDK's credential chain replaced by its environment provider, and undici's index
// replaced by the two modules the upstream clients call.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ENV_NAMES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'] as const;

describe('the Lambda credential provider (the alias of @aws-sdk/credential-provider-node in every bundle)', () => {
  const saved = new Map<string, string | undefined>();
  beforeEach(() => {
    for (const name of ENV_NAMES) {
      saved.set(name, process.env[name]);
      delete process.env[name];
    }
  });
  afterEach(() => {
    for (const name of ENV_NAMES) {
      const value = saved.get(name);
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('is the module the bundling aliases the node credential chain to', () => {
    expect(BUNDLING.esbuildArgs).toEqual({
      '--alias': [`@aws-sdk/credential-provider-node=./${LAMBDA_CREDENTIAL_PROVIDER}`],
    });
    expect(resolve(repoRoot, LAMBDA_CREDENTIAL_PROVIDER)).toBe(
      resolve(repoRoot, 'shared/platform/lambda-credential-provider.ts'),
    );
  });

  it('exports every name the bundled SDK clients import from the node credential chain', () => {
    // A client version that imported another name would otherwise fail only in the deployed bundle.
    const clients = readdirSync(join(repoRoot, 'node_modules/@aws-sdk')).filter((d) => d.startsWith('client-'));
    const imported = new Set<string>();
    for (const client of clients) {
      let source: string;
      try {
        source = readFileSync(join(repoRoot, 'node_modules/@aws-sdk', client, 'dist-es/runtimeConfig.js'), 'utf8');
      } catch {
        continue;
      }
      for (const m of source.matchAll(/import \{([^}]*)\} from "@aws-sdk\/credential-provider-node"/g)) {
        for (const spec of (m[1] ?? '').split(',')) imported.add(spec.trim().split(/\s+as\s+/)[0] ?? '');
      }
    }
    expect([...imported]).toEqual(['defaultProvider']);
    expect(Object.keys(lambdaCredentials)).toEqual(expect.arrayContaining([...imported]));
  });

  it("resolves the execution role's credentials Lambda puts in the environment", async () => {
    process.env['AWS_ACCESS_KEY_ID'] = 'ASIAEXAMPLE';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'secret-example';
    process.env['AWS_SESSION_TOKEN'] = 'token-example';
    await expect(lambdaCredentials.defaultProvider({})()).resolves.toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret-example',
      sessionToken: 'token-example',
    });
  });

  it('fails with the SDK credential error, not a crash, when the environment holds none', async () => {
    await expect(lambdaCredentials.defaultProvider()()).rejects.toMatchObject({
      name: 'CredentialsProviderError',
    });
  });
});

describe('undici parts (the upstream clients import these instead of undici’s index)', () => {
  it('Agent is the very class undici exports', () => {
    expect(Agent).toBe(UndiciIndexAgent);
  });

  it('request sends a GET with its headers and path through the given dispatcher and returns the answer', async () => {
    const seen: { url?: string | undefined; method?: string | undefined; key?: string | undefined } = {};
    const server = createServer((req, res) => {
      seen.url = req.url;
      seen.method = req.method;
      seen.key = req.headers['x-test'] as string | undefined;
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_1' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const agent = new Agent();
    try {
      const { port } = server.address() as AddressInfo;
      const res = await request(agent, new URL(`http://127.0.0.1:${port}/v1/files/file_1?limit=2&after_id=x`), {
        method: 'GET',
        headers: { 'x-test': 'value' },
        signal: new AbortController().signal,
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['request-id']).toBe('req_1');
      expect(await res.body.json()).toEqual({ ok: true });
      expect(seen).toEqual({ url: '/v1/files/file_1?limit=2&after_id=x', method: 'GET', key: 'value' });
    } finally {
      await agent.close();
      server.close();
    }
  });

  it('request rejects with the abort reason when the signal aborts while waiting for the answer', async () => {
    let arrived: () => void = () => {};
    const requestArrived = new Promise<void>((ok) => (arrived = ok));
    // Answers nothing: the request can only end by its signal.
    const server = createServer(() => arrived());
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const agent = new Agent();
    const controller = new AbortController();
    const reason = new Error('stop');
    try {
      const { port } = server.address() as AddressInfo;
      const pending = request(agent, new URL(`http://127.0.0.1:${port}/slow`), {
        method: 'GET',
        headers: {},
        signal: controller.signal,
      });
      await requestArrived;
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
    } finally {
      await agent.destroy();
      server.closeAllConnections();
      server.close();
    }
  });
});
