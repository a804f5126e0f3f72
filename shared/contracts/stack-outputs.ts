/**
 * A deployment's two CloudFormation stacks and the outputs its clients read (the `archiver` CLI with
 * `--stack ENV`, the smoke test). One list, so the templates (infra/data-stack.ts,
 * infra/service-stack.ts) and their readers cannot drift apart: the infra tests check that each
 * output named here is in its template.
 */

/** CloudFormation names of an environment's two stacks (infra/archiver-app.ts). */
export function stackNamesOf(environment: string): { data: string; service: string } {
  const prefix = `claude-file-archiver-${environment}`;
  return { data: `${prefix}-data`, service: `${prefix}-service` };
}

export const DATA_STACK_OUTPUTS = {
  table: 'IndexTableName',
  bucket: 'ArchiveBucketName',
  queueUrl: 'IngestQueueUrl',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  upstreamApiKeySecretArn: 'UpstreamApiKeySecretArn',
} as const;

export const SERVICE_STACK_OUTPUTS = {
  lookupUrl: 'LookupApiUrl',
  /**
   * The upstream base URL the stack's functions call (the deployment's `upstreamBaseUrl`). A client
   * that sends the organization's Compliance key upstream on the stack's behalf (`archiver backfill`)
   * takes it from here, never from the operator's shell.
   */
  upstreamBaseUrl: 'UpstreamBaseUrl',
} as const;
