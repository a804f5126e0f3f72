/**
 * Who may call a route. The stack ships one IAM managed policy per role, built from this table
 * (infra/constructs/lookup-rest-api.ts), so a new route only declares its roles:
 * - `auditor`: search, read, download, verify, the access trail, and the discovery ledger (the evidence that
 *   nothing was skipped is the auditor's to read: the console's coverage screen draws it);
 * - `legalAdmin`: everything an auditor may call, plus holds and exports (a route an auditor may call
 *   lists `legalAdmin` too: test/unit/lookup-routes.test.ts checks it);
 * - `operator`: the discovery ledger too (status, dead letters, redrive and reindex are direct AWS calls
 *   of the CLI, granted by the operator policy in infra/service-stack.ts).
 */
export const LOOKUP_ROLES = ['auditor', 'legalAdmin', 'operator'] as const;
export type LookupRole = (typeof LOOKUP_ROLES)[number];

const AUDIT_READ = ['auditor', 'legalAdmin'] as const;

/**
 * The lookup API's routes, defined once: the handler's dispatch table is keyed by them (a route
 * without a handler does not compile), the CDK app creates one IAM-authorized method per route (and
 * the role policies from them), the local server matches them, and a test keeps the OpenAPI
 * document in step with the handler's table.
 */
export const LOOKUP_ROUTES = [
  { method: 'GET', resource: '/chats/{chatId}/files', query: ['limit', 'cursor'], roles: AUDIT_READ },
  { method: 'GET', resource: '/files/{fileId}', query: [], roles: AUDIT_READ },
  { method: 'GET', resource: '/files/{fileId}/content', query: ['redirect'], roles: AUDIT_READ },
  // Fixity on demand (shared/fixity/): re-proves the archived copy and records the check on the record.
  { method: 'POST', resource: '/files/{fileId}/verify', query: ['tier'], roles: AUDIT_READ },
  {
    method: 'GET',
    resource: '/discovery/{source}/runs',
    query: ['limit', 'cursor'],
    roles: [...AUDIT_READ, 'operator'],
  },
  {
    method: 'GET',
    resource: '/search/files',
    query: [
      'creator',
      'chat',
      'project',
      'filename',
      'sha256',
      'md5',
      'status',
      'source',
      'fixity',
      'from',
      'to',
      'order',
      'limit',
      'cursor',
    ],
    roles: AUDIT_READ,
  },
  {
    method: 'GET',
    resource: '/audit',
    query: ['from', 'to', 'principal', 'fileId', 'limit', 'cursor'],
    roles: AUDIT_READ,
  },
  // Legal holds (shared/holds/): placing and releasing a matter is the legal admin's; whoever may
  // read the archive may see which matters hold it, and why.
  { method: 'POST', resource: '/holds', query: [], roles: ['legalAdmin'] },
  { method: 'GET', resource: '/holds', query: [], roles: AUDIT_READ },
  { method: 'GET', resource: '/holds/{matterId}', query: [], roles: AUDIT_READ },
  { method: 'DELETE', resource: '/holds/{matterId}', query: [], roles: ['legalAdmin'] },
  { method: 'POST', resource: '/exports', query: [], roles: ['legalAdmin'] },
  { method: 'GET', resource: '/exports/{exportId}', query: [], roles: ['legalAdmin'] },
] as const satisfies readonly {
  method: 'GET' | 'POST' | 'DELETE';
  resource: string;
  query: readonly string[];
  roles: readonly LookupRole[];
}[];

export type LookupRoute = (typeof LOOKUP_ROUTES)[number];

/** `METHOD /resource`, as API Gateway reports them in a proxy event (`httpMethod`, `resource`). */
export type RouteKey = LookupRoute extends infer R
  ? R extends LookupRoute
    ? `${R['method']} ${R['resource']}`
    : never
  : never;
