import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeHttpServer, listenOnLoopback } from '../../local/loopback.js';
import { createLookupClient } from '../../cli/lookup-client.js';

// The CLI signs lookup calls for a deployed stack with SigV4 (execute-api). API Gateway is not here,
// so a loopback server records what arrives on the wire and the test re-signs exactly that request
// (method, path, query and host as received) with the same credentials and time: the signatures
// match only if what was signed is what was sent.
const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};
let url: string;
let received: { method: string; rawUrl: string; headers: IncomingHttpHeaders }[] = [];
let close: () => Promise<void>;
const savedEnv = { ...process.env };

beforeAll(async () => {
  const server = createServer((req, res) => {
    received.push({ method: req.method ?? '', rawUrl: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ chatId: 'claude_chat_01Signed', files: [] }));
  });
  const port = await listenOnLoopback(server);
  url = `http://127.0.0.1:${port}/v1/`;
  close = () => closeHttpServer(server);
  process.env['AWS_ACCESS_KEY_ID'] = credentials.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = credentials.secretAccessKey;
  process.env['AWS_SESSION_TOKEN'] = credentials.sessionToken;
});

afterAll(async () => {
  await close();
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) process.env[k] = savedEnv[k];
});

describe('the lookup client against a deployed stack', () => {
  it(
    "sends requests whose SigV4 signature (execute-api, the stack's " + 'region) covers the path and query as sent',
    async () => {
      received = [];
      const client = createLookupClient({ url, signWithRegion: 'eu-west-1' });
      await client.listChat('claude_chat_01Signed');
      expect(received).toHaveLength(1);
      const got = received[0];
      if (!got) throw new Error('no request');
      const authorization = String(got.headers['authorization']);
      expect(authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
      );
      expect(got.headers['x-amz-security-token']).toBe(credentials.sessionToken);

      const wire = new URL(got.rawUrl, 'http://placeholder');
      expect(wire.pathname).toBe('/v1/chats/claude_chat_01Signed/files');
      expect(Object.fromEntries(wire.searchParams)).toEqual({ limit: '100' });
      const amzDate = String(got.headers['x-amz-date']);
      const signingDate = new Date(
        `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:` +
          `${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
      );
      const verifier = new SignatureV4({
        service: 'execute-api',
        region: 'eu-west-1',
        credentials,
        sha256: Hash.bind(null, 'sha256'),
      });
      const resigned = await verifier.sign(
        {
          method: got.method,
          protocol: 'http:',
          hostname: '127.0.0.1',
          path: wire.pathname,
          query: Object.fromEntries(wire.searchParams),
          headers: { host: String(got.headers['host']) },
        },
        { signingDate },
      );
      expect(resigned.headers['authorization']).toBe(authorization);
    },
  );

  it('sends no signature to a local stack', async () => {
    received = [];
    await createLookupClient({ url, signWithRegion: undefined }).listChat('claude_chat_01Signed');
    expect(received[0]?.headers['authorization']).toBeUndefined();
  });
});
