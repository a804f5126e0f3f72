/**
 * Requests to the lookup API (GET, and POST with a JSON body), SigV4-signed for `execute-api` (the API is
 * AWS_IAM-authorised), with
 * credentials from the standard AWS provider chain: environment, profile, SSO, instance or task role.
 * The local lookup server accepts unsigned requests; they are signed anyway (with the local stack's
 * dummy credentials), so the smoke test runs the same code against both.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { request } from 'undici';

export interface LookupResponse {
  status: number;
  /** Single-valued response headers, lower-case names. */
  headers: Record<string, string>;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  json: unknown;
}

export interface LookupApi {
  /** Sends a signed GET for `path` (e.g. `/files/<id>`) under the API's base URL; never follows redirects. */
  get(path: string): Promise<LookupResponse>;
  /** Sends a signed request with a JSON body (the body's SHA-256 is part of the signature). */
  send(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<LookupResponse>;
}

/** Most of a response body read, in bytes: lookup answers are small JSON documents. */
const MAX_BODY_BYTES = 1024 * 1024;

export function createSignedLookupApi(baseUrl: string, region: string): LookupApi {
  const base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: defaultProvider(),
    sha256: Hash.bind(null, 'sha256'),
  });

  async function call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<LookupResponse> {
    const url = new URL(path.replace(/^\//, ''), base);
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const sent = body === undefined ? undefined : JSON.stringify(body);
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      // As it goes on the wire; the signer encodes it once more, as SigV4 wants for every service but S3.
      path: url.pathname,
      query,
      headers: { host: url.host, ...(sent === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(sent === undefined ? {} : { body: sent }),
    });
    const { host: _host, ...headers } = signed.headers;
    const res = await request(url, {
      method,
      headers: { accept: 'application/json', ...headers },
      ...(sent === undefined ? {} : { body: sent }),
    });
    // The bytes are gathered and decoded once: a chunk boundary may fall inside a multi-byte UTF-8
    // character, which decoding chunk by chunk would turn into two U+FFFD.
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const buf = Buffer.from(chunk as Uint8Array);
      chunks.push(buf);
      size += buf.byteLength;
      if (size > MAX_BODY_BYTES) {
        res.body.destroy();
        break;
      }
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') flat[k.toLowerCase()] = v;
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: flat, json };
  }

  return {
    get: (path) => call('GET', path),
    send: (method, path, body) => call(method, path, body),
  };
}
