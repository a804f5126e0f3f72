/**
 * The local stand-in for API Gateway in front of the lookup Lambda: an HTTP server on 127.0.0.1 that
 * turns each request into the REST proxy event the deployed handler receives. Whatever arrives on the
 * port, it answers with a status below 500 and a JSON `{"error":{type,message}}` body when it refuses
 * (only a failure of the handler itself is a 500), and it never throws out of a request: a bad request
 * target, a broken escape, an unsupported method or malformed framing is the caller's problem, not a
 * reason for the process to stop.
 */
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { LOOKUP_ROUTES } from '../shared/contracts/lookup-routes.js';
import { describeError } from '../shared/platform/errors.js';
import type { Log } from '../shared/platform/telemetry.js';
import { localIdentity } from './api-gateway-identity.js';
import { createConsoleLog } from './console-log.js';
import { closeHttpServer, listenOnLoopback } from './loopback.js';

/** Header a local caller may set to name itself in the access trail (API Gateway takes it from SigV4). */
export const LOCAL_CALLER_HEADER = 'x-archiver-caller';

const compiled = LOOKUP_ROUTES.map((route) => {
  const names: string[] = [];
  const pattern = route.resource.replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { ...route, names, regex: new RegExp(`^${pattern}$`) };
});

/** A request target split into its path (still percent-encoded) and its query string (without `?`). */
export interface RequestTarget {
  path: string;
  query: string;
}

/**
 * Reads the request target of an HTTP/1.1 request line. The origin form (`/path?query`) is taken
 * literally: `//x/files/y` is a path, never a host, and nothing is normalised or decoded here. The
 * absolute form (`http://host/path`) is accepted as HTTP allows. Anything else (`*`, `files`, a
 * broken URL) is undefined: the caller answers 400.
 */
export function parseRequestTarget(raw: string): RequestTarget | undefined {
  if (raw.startsWith('/')) {
    const withoutFragment = raw.split('#', 1)[0] ?? '';
    const q = withoutFragment.indexOf('?');
    return q < 0
      ? { path: withoutFragment, query: '' }
      : { path: withoutFragment.slice(0, q), query: withoutFragment.slice(q + 1) };
  }
  if (/^https?:\/\//i.test(raw)) {
    try {
      const url = new URL(raw);
      return { path: url.pathname, query: url.search.slice(1) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Turns an HTTP request into the API Gateway REST proxy event the lookup Lambda receives, with the
 * same resource templates and path parameters, so that the local server runs the deployed handler.
 */
export function toProxyEvent(
  method: string,
  target: RequestTarget,
  headers: Record<string, string>,
  caller: string,
  body: string | null = null,
): APIGatewayProxyEvent {
  let resource = target.path;
  let pathParameters: Record<string, string> | null = null;
  for (const route of compiled) {
    const m = route.regex.exec(target.path);
    if (!m) continue;
    resource = route.resource;
    pathParameters = {};
    for (const [i, name] of route.names.entries()) {
      const raw = m[i + 1] ?? '';
      let value = raw;
      try {
        value = decodeURIComponent(raw);
      } catch {
        // API Gateway passes undecodable escapes through; validation rejects them.
      }
      pathParameters[name] = value;
    }
    break;
  }
  // URLSearchParams never throws: an undecodable escape stays as it was, invalid UTF-8 becomes U+FFFD.
  const searchParams = new URLSearchParams(target.query);
  const query: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of searchParams) {
    query[k] = v;
    (multi[k] ??= []).push(v);
  }
  const hasQuery = searchParams.size > 0;
  const requestId = randomUUID();
  return {
    resource,
    path: target.path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multi : null,
    pathParameters,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      path: target.path,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
      identity: localIdentity({ caller, sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? null }),
    },
  };
}

type LookupHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** Serves the lookup handler over HTTP on 127.0.0.1, like API Gateway in front of the Lambda. */
export async function startLookupServer(
  handler: LookupHandler,
  opts: {
    port?: number;
    defaultCaller?: string;
    log?: Log;
    /** The one browser origin allowed to call (the local console); others get no CORS headers. */
    corsOrigin?: string;
  } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const log = opts.log ?? createConsoleLog('lookup');
  const server = createServer((req, res) => {
    if (opts.corsOrigin !== undefined && applyCors(req, res, opts.corsOrigin)) return;
    void serve(req, res, handler, opts.defaultCaller, log);
  });
  // Requests Node refuses before they reach the handler get the same JSON error shape.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket));
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) =>
    send(res, errorResult(417, 'invalid_request', 'Only "Expect: 100-continue" is supported.')),
  );
  server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
    writeRawError(socket, 405, 'method_not_allowed', 'CONNECT is not supported.'),
  );
  const port = await listenOnLoopback(server, opts.port ?? 0);
  server.on('error', (err) => log.error('lookup server error', { error: describeError(err) }));
  return { url: `http://127.0.0.1:${port}`, close: () => closeHttpServer(server) };
}

/**
 * CORS for the local console, as API Gateway does it for the deployed one: the console's exact
 * origin, never a wildcard, and a preflight answered without reaching the handler. Returns true when
 * the request was a preflight and has been answered.
 * https://fetch.spec.whatwg.org/#http-cors-protocol
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowedOrigin: string): boolean {
  const origin = req.headers.origin;
  res.setHeader('Vary', 'Origin');
  if (origin !== allowedOrigin) return false;
  res.setHeader('Access-Control-Allow-Origin', allowedOrigin);
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
    res.writeHead(204, {
      'Access-Control-Allow-Methods': CORS_METHODS,
      'Access-Control-Allow-Headers': CORS_HEADERS,
      'Access-Control-Max-Age': '600',
    });
    res.end();
    return true;
  }
  return false;
}

/** What the console sends: its reads, and the workbench's writes (holds, exports); JSON bodies and SigV4 headers. */
export const CORS_METHODS = 'GET, POST, DELETE';
export const CORS_HEADERS = 'content-type, authorization, x-amz-date, x-amz-security-token, x-amz-content-sha256';

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handler: LookupHandler,
  defaultCaller: string | undefined,
  log: Log,
): Promise<void> {
  const context = { method: req.method, target: (req.url ?? '').slice(0, 200) };
  // A client that goes away mid-request must not become an unhandled 'error' event.
  req.on('error', () => {});
  res.on('error', (err) => log.warn('lookup response failed', { ...context, error: describeError(err) }));
  let result: APIGatewayProxyResult;
  try {
    const target = parseRequestTarget(req.url ?? '');
    if (!target) {
      result = errorResult(400, 'invalid_request', 'The request target must be a path starting with "/".');
    } else {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const caller = headers[LOCAL_CALLER_HEADER] ?? defaultCaller ?? 'local:anonymous';
      // Only a route that takes a body (POST) has one read: any other request is answered at once,
      // as before, whatever framing it announces.
      const body = takesBody(req.method ?? '', target.path)
        ? await readBody(req).catch(() => 'aborted' as const)
        : null;
      result =
        body === 'aborted'
          ? // The client went away mid-body (or stalled): nobody may be left to read the answer.
            errorResult(400, 'invalid_request', 'The request body did not arrive.')
          : body === undefined
            ? errorResult(413, 'payload_too_large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`)
            : await handler(toProxyEvent(req.method ?? 'GET', target, headers, caller, body));
    }
  } catch (err) {
    log.error('lookup request failed unexpectedly', {
      ...context,
      error: describeError(err),
      stack: err instanceof Error ? err.stack : undefined,
    });
    result = errorResult(500, 'internal_error', 'The request could not be completed.');
  }
  try {
    send(res, result);
  } catch (err) {
    // For example a header value Node refuses to write: report it as what it is, a server fault.
    log.error('could not write the lookup response', {
      ...context,
      status: result.statusCode,
      error: describeError(err),
    });
    if (res.headersSent) res.destroy();
    else send(res, errorResult(500, 'internal_error', 'The request could not be completed.'));
  }
}

/** API Gateway REST refuses payloads over 10 MB; the lookup's bodies are small JSON documents. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** How long the whole body may take to arrive. */
const BODY_TIMEOUT_MS = 5_000;

function takesBody(method: string, path: string): boolean {
  return compiled.some((route) => route.method === method && route.method === 'POST' && route.regex.test(path));
}

/**
 * The request body as text (null when there is none), or undefined when it is over MAX_BODY_BYTES;
 * rejects when the client goes away or the body is not complete within BODY_TIMEOUT_MS.
 */
async function readBody(req: IncomingMessage): Promise<string | null | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => req.destroy(new Error('the body did not arrive in time')), BODY_TIMEOUT_MS);
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).byteLength;
      if (size > MAX_BODY_BYTES) return undefined;
      chunks.push(chunk as Buffer);
    }
  } finally {
    clearTimeout(timer);
  }
  return size === 0 ? null : Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
  res.writeHead(result.statusCode, headers);
  res.end(result.body);
}

function errorResult(statusCode: number, type: string, message: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    body: JSON.stringify({ error: { type, message } }),
  };
}

/** Node's own answer to a request it cannot parse is a bare 400; this one carries the JSON error. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
    socket.destroy();
    return;
  }
  // A response already under way on this connection cannot be followed by another one.
  const inProgress = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  if (err.code === 'HPE_HEADER_OVERFLOW')
    writeRawError(socket, 431, 'invalid_request', 'The request headers are too large.');
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    writeRawError(socket, 408, 'invalid_request', 'The request took too long to arrive.');
  else writeRawError(socket, 400, 'invalid_request', 'The request is not valid HTTP/1.1.');
}

function writeRawError(socket: Duplex, status: number, type: string, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: { type, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: ` +
      `application/json\r\nCache-Control: no-store\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
