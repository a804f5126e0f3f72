/**
 * The lookup API's routes, defined once: the handler's dispatch table is keyed by them (a route
 * without a handler does not compile), the CDK app creates one IAM-authorized method per route (and
 * the auditor policy from them), the local server matches them, and a test keeps the OpenAPI
 * document in step with the handler's table.
 */
export const LOOKUP_ROUTES = [
  { method: 'GET', resource: '/chats/{chatId}/files', query: ['limit', 'cursor'], roles: ['auditor'] },
  { method: 'GET', resource: '/files/{fileId}', query: [], roles: ['auditor'] },
  { method: 'GET', resource: '/files/{fileId}/content', query: [], roles: ['auditor'] },
  { method: 'GET', resource: '/discovery/{source}/runs', query: ['limit', 'cursor'], roles: ['auditor', 'operator'] },
  // Legal holds (shared/holds/): placing and releasing a matter is the legal admin's; anyone who may
  // read the archive may see which matters hold it.
  { method: 'POST', resource: '/holds', query: [], roles: ['legalAdmin'] },
  { method: 'GET', resource: '/holds', query: [], roles: ['auditor', 'legalAdmin'] },
  { method: 'GET', resource: '/holds/{matterId}', query: [], roles: ['auditor', 'legalAdmin'] },
  { method: 'DELETE', resource: '/holds/{matterId}', query: [], roles: ['legalAdmin'] },
] as const satisfies readonly {
  method: 'GET' | 'POST' | 'DELETE';
  resource: string;
  query: readonly string[];
  /** Who may call the route: each role's IAM managed policy is built from the routes naming it. */
  roles: readonly LookupRole[];
}[];

/** The callers of the lookup API, one IAM managed policy each (infra/constructs/lookup-rest-api.ts). */
export type LookupRole = 'auditor' | 'legalAdmin' | 'operator';

export type LookupRoute = (typeof LOOKUP_ROUTES)[number];

/** `METHOD /resource`, as API Gateway reports them in a proxy event (`httpMethod`, `resource`). */
export type RouteKey = LookupRoute extends infer R
  ? R extends LookupRoute
    ? `${R['method']} ${R['resource']}`
    : never
  : never;
