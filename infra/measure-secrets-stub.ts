/**
 * The loopback Secrets Manager the bundle measurement (measure-bundle.ts) points ingest's cold start at:
 * a throwaway TLS certificate for 127.0.0.1 and a stub answering GetSecretValue, so the module's
 * initialisation completes as it does in Lambda, without a network.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway certificate for 127.0.0.1, made with the openssl command line (Node can make keys but
 * not certificates), so the stub can answer over TLS as Secrets Manager does. Undefined when openssl
 * is not installed.
 */
export function loopbackCertificate():
  | { cert: string; key: string; certFile: string; cleanup: () => void }
  | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'measure-bundle-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      certFile: join(dir, 'cert.pem'),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

/**
 * A Secrets Manager stand-in answering GetSecretValue, so the ingest module's cold start completes.
 * Over TLS when it can, as in Lambda: over plain HTTP the secret reader loads `node:http` as an
 * ES module, whose namespace makes Node load its own bundled undici (its WebSocket getters), tens of
 * milliseconds that a function calling the HTTPS endpoint never spends.
 */
export async function startSecretsStub(
  tls: { cert: string; key: string } | undefined,
): Promise<{ server: Server; endpoint: (port: number) => string }> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:upstream-key-abcdef',
          Name: 'upstream-key',
          SecretString: 'sk-ant-measurement-placeholder',
          VersionId: '00000000-0000-0000-0000-000000000000',
        }),
      );
    });
  };
  const server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, endpoint: (port) => `${tls ? 'https' : 'http'}://127.0.0.1:${port}` };
}
