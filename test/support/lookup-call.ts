import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/**
 * Calls a lookup handler as API Gateway would, for `caller` (its ARN; `opts.callerId` is the identity's
 * `caller` field, the ARN itself unless given); the JSON answer parsed.
 */
export async function callLookup(
  lookup: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>,
  caller: string,
  method: string,
  resource: string,
  opts: { path?: Record<string, string>; query?: Record<string, string>; body?: unknown; callerId?: string } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await lookup({
    httpMethod: method,
    resource,
    path: resource,
    pathParameters: opts.path ?? null,
    queryStringParameters: opts.query ?? null,
    body: opts.body === undefined ? null : JSON.stringify(opts.body),
    isBase64Encoded: false,
    requestContext: { requestId: 'test', identity: { userArn: caller, caller: opts.callerId ?? caller } },
  } as unknown as APIGatewayProxyEvent);
  return { status: res.statusCode, json: JSON.parse(res.body) as Record<string, unknown> };
}
