/**
 * The lookup API's routes, defined once: the handler's dispatch table is keyed by them (a route
 * without a handler does not compile), the CDK app creates one IAM-authorized method per route (and
 * the auditor policy from them), the local server matches them, and a test keeps the OpenAPI
 * document in step with the handler's table.
 */
export const LOOKUP_ROUTES = [
  { method: 'GET', resource: '/chats/{chatId}/files', query: ['limit', 'cursor'] },
  { method: 'GET', resource: '/files/{fileId}', query: [] },
  { method: 'GET', resource: '/files/{fileId}/content', query: [] },
  { method: 'GET', resource: '/discovery/{source}/runs', query: ['limit', 'cursor'] },
] as const;

export type LookupRoute = (typeof LOOKUP_ROUTES)[number];

/** `METHOD /resource`, as API Gateway reports them in a proxy event (`httpMethod`, `resource`). */
export type RouteKey = `${LookupRoute['method']} ${LookupRoute['resource']}`;
