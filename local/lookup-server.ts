import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { LOOKUP_ROUTES } from '../shared/contracts/lookup-routes.js';
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

/**
 * Turns an HTTP request into the API Gateway REST proxy event the lookup Lambda receives, with the
 * same resource templates and path parameters, so that the local server runs the deployed handler.
 */
export function toProxyEvent(method: string, rawUrl: string, headers: Record<string, string>, caller: string): APIGatewayProxyEvent {
  const url = new URL(rawUrl, 'http://localhost');
  let resource = url.pathname;
  let pathParameters: Record<string, string> | null = null;
  for (const route of compiled) {
    const m = route.regex.exec(url.pathname);
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
  const query: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multi[k] ??= []).push(v);
  }
  const requestId = randomUUID();
  return {
    resource,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: url.searchParams.size > 0 ? query : null,
    multiValueQueryStringParameters: url.searchParams.size > 0 ? multi : null,
    pathParameters,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: caller,
        userAgent: headers['user-agent'] ?? null,
        userArn: caller,
      },
    },
  };
}

/** Serves the lookup handler over HTTP on 127.0.0.1, like API Gateway in front of the Lambda. */
export async function startLookupServer(
  handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>,
  opts: { port?: number; defaultCaller?: string } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    const caller = headers[LOCAL_CALLER_HEADER] ?? opts.defaultCaller ?? 'local:anonymous';
    handler(toProxyEvent(req.method ?? 'GET', req.url ?? '/', headers, caller)).then(
      (result) => {
        res.writeHead(result.statusCode, stringHeaders(result.headers));
        res.end(result.body);
      },
      () => {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'internal_error', message: 'The request could not be completed.' } }));
      },
    );
  });
  const port = await listenOnLoopback(server, opts.port ?? 0);
  return { url: `http://127.0.0.1:${port}`, close: () => closeHttpServer(server) };
}

function stringHeaders(headers: APIGatewayProxyResult['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k] = String(v);
  return out;
}
