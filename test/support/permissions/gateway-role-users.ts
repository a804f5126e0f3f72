import type { S3Client } from '@aws-sdk/client-s3';
import { ensureObjectLockBucket } from '../../../local/aws/resources.js';
import type { RadosGateway, RadosGatewayCredentials } from '../rados-gateway.js';
import type { DeployedPermissions, PolicyDocument, PolicyStatement, PrincipalName } from './deployed-permissions.js';
import { uniqueName } from '../local-aws.js';

/**
 * The S3 part of a principal's synthesized identity policies, for a gateway user standing in for the
 * role: every statement's S3 actions and conditions, with its resources moved from the deployed
 * archive bucket to the test bucket, nothing added; grants on the exports bucket are left out (not
 * mirrored). A resource elsewhere, NotAction or NotResource fails here rather than being silently
 * widened or dropped.
 */
export function s3StatementsFor(
  principal: PrincipalName,
  testBucket: string,
  deployed: DeployedPermissions,
): PolicyDocument {
  const deployedBucket = deployed.resources.archiveBucket.arn;
  const exportsBucket = deployed.resources.exportsBucket.arn;
  const statements: PolicyStatement[] = [];
  for (const { policy } of deployed.principals[principal].policies) {
    for (const s of policy.Statement) {
      const actions = asArray(s.Action).filter((a) => a.startsWith('s3:'));
      if (actions.length === 0) continue;
      if (s.NotAction !== undefined || s.NotResource !== undefined) {
        throw new Error(
          `${principal}: an S3 statement with NotAction or NotResource ` +
            `is not mirrored on the gateway: ${JSON.stringify(s)}`,
        );
      }
      const inBucket = (r: string, bucket: string) => r === bucket || r.startsWith(`${bucket}/`);
      const resources = asArray(s.Resource)
        // The exports bucket is not mirrored on the gateway: the export tests run on s3rver, and each
        // export grant is checked in the IAM simulator (test/infra/deployed-permissions.test.ts).
        .filter((r) => !inBucket(r, exportsBucket))
        .map((r) => {
          if (!inBucket(r, deployedBucket))
            throw new Error(`${principal}: S3 grant on ${r}, outside the archive and exports buckets`);
          return `arn:aws:s3:::${testBucket}${r.slice(deployedBucket.length)}`;
        });
      if (resources.length === 0) continue;
      statements.push({
        Effect: s.Effect,
        Action: actions,
        Resource: resources,
        ...(s.Condition ? { Condition: s.Condition } : {}),
      });
    }
  }
  if (statements.length === 0) throw new Error(`${principal} holds no S3 statement`);
  return { Version: '2012-10-17', Statement: statements };
}

/** A new gateway user holding exactly `principal`'s S3 statements on `testBucket` (PutUserPolicy). */
export async function createRoleUser(
  gateway: RadosGateway,
  principal: PrincipalName,
  testBucket: string,
  deployed: DeployedPermissions,
): Promise<{ uid: string; credentials: RadosGatewayCredentials; policy: PolicyDocument }> {
  const uid = uniqueName(`${principal.toLowerCase()}-role`);
  const credentials = await gateway.createUser(uid);
  const policy = s3StatementsFor(principal, testBucket, deployed);
  await gateway.putUserPolicy(uid, `${principal}-role-s3`, JSON.stringify(policy));
  return { uid, credentials, policy };
}

/**
 * Creates a bucket as infra/constructs/archive-bucket.ts deploys the archive: Object Lock enabled at
 * creation, versioning on, default retention GOVERNANCE (1 day here instead of years). Not mirrored:
 * SSE-KMS (the gateway has no KMS; the simulator checks the key use) and the lifecycle rules.
 */
export async function createArchiveBucketOnGateway(admin: S3Client, bucket: string): Promise<void> {
  const { created } = await ensureObjectLockBucket(admin, bucket, { mode: 'GOVERNANCE', days: 1 });
  if (!created) throw new Error(`bucket ${bucket} already exists on the gateway`);
}

function asArray(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
