import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Prefix of every physical name, alias and export of one deployment. */
export function namePrefixOf(environment: string): string {
  return `claude-file-archiver-${environment}`;
}

/**
 * The archive bucket's name, computed the same way in both stacks from their own (identical)
 * account and region: `claude-file-archiver-<env>-<account>-<region>`, at most 61 characters with a
 * 12-character environment name.
 *
 * A fixed name lets operators and auditors find the WORM bucket without reading stack outputs,
 * and lets the service stack grant on `arn:…:s3:::<name>/*` without a cross-stack token; with a
 * token, cdk-nag's finding for the unavoidable object wildcard would embed a hashed output name
 * that no narrow acknowledgment can name in advance.
 */
export function archiveBucketName(scope: IConstruct, namePrefix: string): string {
  const stack = Stack.of(scope);
  return `${namePrefix}-${stack.account}-${stack.region}`;
}

/**
 * The exports bucket's name, for the same reasons as the archive bucket's (a grant on
 * `arn:…:s3:::<name>/exports/*` the cdk-nag acknowledgment can name):
 * `claude-file-exports-<env>-<account>-<region>`, at most 60 characters with a 12-character
 * environment name (S3 allows 63).
 */
export function exportsBucketName(scope: IConstruct, environment: string): string {
  const stack = Stack.of(scope);
  return `claude-file-exports-${environment}-${stack.account}-${stack.region}`;
}
