import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeHttpServer, listenOnLoopback } from '../../local/loopback.js';
import { createApiClient } from '../../console/src/api/client.js';
import { createSigningSend } from '../../console/src/api/signing.js';

// The deployed console signs every lookup call with SigV4 (execute-api) using the temporary
// credentials of the identity pool's role. API Gateway is not here, so a loopback endpoint records
// what arrives on the wire and re-signs exactly that request (method, path, query, host and the
// headers the signature names) with the same credentials and time, using the AWS SDK's own signer:
// the signatures match only if what was signed is what was sent.
const credentials = {
  accessKeyId: 'ASIAEXAMPLECONSOLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'identity-pool-session-token',
};
let base: string;
let received: { method: string; rawUrl: string; headers: IncomingHttpHeaders; body: string }[] = [];
let close: () => Promise<void>;

beforeAll(async () => {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', rawUrl: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ files: [], holdId: 'h', scope: {}, status: 'placing' }));
    });
  });
  base = `http://127.0.0.1:${await listenOnLoopback(server)}/v1/`;
  close = () => closeHttpServer(server);
});
afterAll(() => close());

async function resign(got: (typeof received)[number]): Promise<string> {
  const authorization = String(got.headers['authorization']);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const amzDate = String(got.headers['x-amz-date']);
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:` +
      `${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const wire = new URL(got.rawUrl, 'http://placeholder');
  const headers: Record<string, string> = {};
  for (const h of signedHeaders)
    if (h !== 'x-amz-date' && h !== 'x-amz-security-token') headers[h] = String(got.headers[h]);
  const verifier = new SignatureV4({
    service: 'execute-api',
    region: 'eu-west-1',
    credentials,
    sha256: Hash.bind(null, 'sha256'),
    // API Gateway does not require x-amz-content-sha256 and the browser's signer does not send it.
    applyChecksum: false,
  });
  const signed = await verifier.sign(
    {
      method: got.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: wire.pathname,
      query: Object.fromEntries(wire.searchParams),
      headers,
      body: got.body === '' ? undefined : got.body,
    },
    { signingDate },
  );
  return String(signed.headers['authorization']);
}

describe("the console's SigV4 signing", () => {
  it('signs a read so that a verifier re-computing the signature from the wire gets the same one', async () => {
    received = [];
    await createApiClient(
      base,
      createSigningSend('eu-west-1', async () => ({ ...credentials, expiresAt: Date.now() + 3600_000 })),
    ).searchFiles({ creator: 'auditor@example.com', from: '2025-01-01' }, { limit: 25 });
    const got = received[0];
    if (!got) throw new Error('no request');
    expect(String(got.headers['authorization'])).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLECONSOLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
    );
    expect(got.headers['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(await resign(got)).toBe(got.headers['authorization']);
  });

  it('signs a write with its JSON body (the body is part of the signature)', async () => {
    received = [];
    const client = createApiClient(
      base,
      createSigningSend('eu-west-1', async () => ({ ...credentials, expiresAt: Date.now() + 3600_000 })),
    );
    await client.placeHold({ matterId: 'Matter-1', reason: 'litigation', scope: { chats: ['claude_chat_1'] } });
    const got = received[0];
    if (!got) throw new Error('no request');
    expect(got.method).toBe('POST');
    expect(JSON.parse(got.body)).toMatchObject({ matterId: 'Matter-1' });
    expect(await resign(got)).toBe(got.headers['authorization']);
    // A signature over another body does not match: the check above can fail.
    expect(await resign({ ...got, body: got.body.replace('Matter-1', 'Matter-2') })).not.toBe(
      got.headers['authorization'],
    );
  });
});
