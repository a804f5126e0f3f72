/**
 * The lookup API's routes, defined once: the handler dispatches on them, the CDK app creates one
 * IAM-authorized method per route (and the auditor policy from them), the local server matches them,
 * and a test keeps the OpenAPI document in step with them.
 */
export const LOOKUP_ROUTES = [
  { method: 'GET', resource: '/chats/{chatId}/files', query: ['limit', 'cursor'] },
  { method: 'GET', resource: '/files/{fileId}', query: [] },
  { method: 'GET', resource: '/files/{fileId}/content', query: [] },
  { method: 'GET', resource: '/discovery/{source}/runs', query: ['limit', 'cursor'] },
] as const;
