/**
 * Global setup of the integration project: one local AWS stack for the whole run. fauxqs answers S3
 * (correct multipart) and SQS, dynalite answers DynamoDB, and a separate s3rver (on disk, expiring
 * presigned URLs) answers a second S3 endpoint. Each test file makes its own bucket, table and
 * queues (see uniqueName), so files can run in parallel against the same servers.
 *
 * Where Ceph's radosgw is installed, a RADOS Gateway (a real S3 implementation, see
 * rados-gateway.ts) starts beside them, at the same time, for the real-S3 tier. vitest.config.ts
 * leaves that tier's test file out where it is not installed; under CI=true it is mandatory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { LOCAL_REGION, useLocalAwsEnvironment } from '../../shared/platform/local-account.js';
import { startS3rver } from '../../local/aws/s3rver-server.js';
import { startLocalAws } from '../../local/aws/servers.js';
import {
  isRadosGatewayInstalled,
  RADOS_GATEWAY_INSTALL_COMMAND,
  startRadosGateway,
  type RadosGatewayInfo,
} from './rados-gateway.js';
import { synthesizeDeployedPermissions, type DeployedPermissions } from './permissions/deployed-permissions.js';
import { reportUnusedGrants } from './permissions/usage-report.js';

/** What tests read with `inject('localAws')`; every endpoint is on 127.0.0.1. */
export interface ProvidedLocalAws {
  region: string;
  /** fauxqs S3 (in memory). */
  s3Endpoint: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  /** s3rver S3 (on disk under s3rverDirectory). */
  s3rverEndpoint: string;
  s3rverDirectory: string;
  /** RADOS Gateway (real S3: checksums, versions, Object Lock, policies); absent where radosgw is not installed. */
  rgw?: RadosGatewayInfo;
}

declare module 'vitest' {
  export interface ProvidedContext {
    localAws: ProvidedLocalAws;
    /** The synthesized role and resource policies every test's AWS calls are checked against. */
    deployedPermissions: DeployedPermissions;
    /** Where each test file leaves the IAM actions its calls used (for the least-privilege report). */
    permissionUsageDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  useLocalAwsEnvironment();
  const rgwInstalled = isRadosGatewayInstalled();
  if (!rgwInstalled) {
    if (process.env.CI === 'true') {
      throw new Error(`CI requires the real-S3 tier, but radosgw is not installed: ${RADOS_GATEWAY_INSTALL_COMMAND}`);
    }
    console.log(
      `Real-S3 tier (RADOS Gateway) did not run: radosgw is not installed; to run it: ${RADOS_GATEWAY_INSTALL_COMMAND}`,
    );
  }
  // Synthesized once per run (bundling and template validation skipped, under a second): every test
  // file checks its AWS calls against it (test/support/permission-setup.ts).
  const deployedPermissions = synthesizeDeployedPermissions();
  project.provide('deployedPermissions', deployedPermissions);
  const permissionUsageDir = await mkdtemp(join(tmpdir(), 'archiver-test-permissions-'));
  project.provide('permissionUsageDir', permissionUsageDir);
  const s3rverDirectory = await mkdtemp(join(tmpdir(), 'archiver-test-s3rver-'));
  // All three start at once: the gateway's cluster takes a few seconds, the others well under one.
  const [aws, s3rver, rgw] = await Promise.allSettled([
    startLocalAws({ s3: 'fauxqs' }),
    startS3rver({ directory: s3rverDirectory }),
    rgwInstalled ? startRadosGateway({ region: LOCAL_REGION }) : Promise.resolve(undefined),
  ]);
  const stopAll = async (): Promise<void> => {
    await Promise.all(
      [aws, s3rver, rgw].map((started) => (started.status === 'fulfilled' ? started.value?.stop() : undefined)),
    );
    await rm(s3rverDirectory, { recursive: true, force: true });
  };
  const teardown = async (): Promise<void> => {
    await stopAll();
    await reportUnusedGrants(deployedPermissions, permissionUsageDir, process.env['ARCHIVER_PERMISSIONS_REPORT']);
    await rm(permissionUsageDir, { recursive: true, force: true });
  };
  if (aws.status === 'rejected' || s3rver.status === 'rejected' || rgw.status === 'rejected') {
    await stopAll();
    await rm(permissionUsageDir, { recursive: true, force: true });
    const failed = [aws, s3rver, rgw].find((started) => started.status === 'rejected');
    throw failed?.reason;
  }
  project.provide('localAws', {
    region: aws.value.region,
    s3Endpoint: aws.value.s3Endpoint,
    sqsEndpoint: aws.value.sqsEndpoint,
    dynamodbEndpoint: aws.value.dynamodbEndpoint,
    s3rverEndpoint: s3rver.value.endpoint,
    s3rverDirectory,
    ...(rgw.value
      ? {
          rgw: {
            endpoint: rgw.value.endpoint,
            region: rgw.value.region,
            adminCredentials: rgw.value.adminCredentials,
            configFile: rgw.value.configFile,
          },
        }
      : {}),
  });
  return teardown;
}
