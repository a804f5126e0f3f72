import type { S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { ensureBucket } from '../../local/aws/resources.js';
import { uniqueName, type LocalAwsFixture } from './local-aws.js';
import { createArchiveBucketOnGateway, createRoleUser } from './permissions/gateway-role-users.js';
import type { PrincipalName } from './permissions/deployed-permissions.js';
import { connectRadosGateway, radosGatewayS3Client, type RadosGatewayCredentials } from './rados-gateway.js';

/** The S3 servers a test stack can archive into. */
export type S3Tier = 'fauxqs' | 's3rver' | 'rgw';

export interface ArchiveBucketOnTier {
  /** The test's own client: full access, for assertions and set-up. */
  s3: S3Client;
  endpoint: string;
  /** The server checks signatures (a proxy in front must keep the Host header the client signed). */
  verifiesSignatures: boolean;
  /**
   * Credentials of a user holding exactly `principal`'s S3 statements, on the gateway; undefined on
   * the emulators, which enforce no permission (there the policy simulator stands in).
   */
  credentialsFor(principal: PrincipalName): Promise<RadosGatewayCredentials | undefined>;
  destroy(): void;
}

/**
 * Creates `bucket` on a tier: an emulator bucket, or on the RADOS Gateway a bucket configured as the
 * archive is deployed, whose handlers run as users holding the synthesized roles' S3 statements.
 */
export async function createArchiveBucket(
  tier: S3Tier,
  aws: LocalAwsFixture,
  bucket: string,
): Promise<ArchiveBucketOnTier> {
  if (tier !== 'rgw') {
    const s3 = tier === 's3rver' ? aws.s3rver : aws.s3;
    await ensureBucket(s3, bucket);
    return {
      s3,
      endpoint: tier === 's3rver' ? aws.s3rverEndpoint : aws.s3Endpoint,
      verifiesSignatures: false,
      credentialsFor: () => Promise.resolve(undefined),
      destroy: () => undefined,
    };
  }
  if (!aws.rgw) throw new Error('the integration global setup did not start the RADOS gateway (is radosgw installed?)');
  const gateway = connectRadosGateway(aws.rgw);
  const admin = radosGatewayS3Client(gateway);
  await createArchiveBucketOnGateway(admin, bucket);
  admin.destroy();
  // The gateway has no BucketOwnerEnforced: an object belongs to the user who wrote it, and the
  // bucket owner cannot read the role users' objects. The test's own view is a user whose policy
  // allows every S3 action on this bucket, which reads and writes objects whoever owns them.
  const inspectorUid = uniqueName('inspector');
  const inspectorCredentials = await gateway.createUser(inspectorUid);
  const everything = {
    Effect: 'Allow',
    Action: ['s3:*'],
    Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
  };
  await gateway.putUserPolicy(
    inspectorUid,
    'inspect-test-bucket',
    JSON.stringify({ Version: '2012-10-17', Statement: [everything] }),
  );
  const inspector = radosGatewayS3Client(gateway, inspectorCredentials);
  const users = new Map<PrincipalName, Promise<RadosGatewayCredentials>>();
  return {
    s3: inspector,
    endpoint: gateway.endpoint,
    verifiesSignatures: true,
    credentialsFor(principal) {
      let user = users.get(principal);
      if (!user) {
        user = createRoleUser(gateway, principal, bucket, inject('deployedPermissions')).then((u) => u.credentials);
        users.set(principal, user);
      }
      return user;
    },
    destroy: () => inspector.destroy(),
  };
}
