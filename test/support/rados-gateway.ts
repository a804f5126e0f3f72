/**
 * The RADOS Gateway for tests: local/aws/rados-gateway.ts starts it (as `npm start` does with
 * ARCHIVER_S3=rgw); this adds what only tests do with it: users with IAM policies (PutUserPolicy
 * through the gateway's IAM API) and clients signing as them.
 */
import { IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  createRadosGatewayUser,
  startRadosGateway as startLocalRadosGateway,
  type RadosGatewayCredentials,
  type RadosGatewayInfo,
  type RunningRadosGateway as RunningLocalRadosGateway,
  type StartRadosGatewayOptions,
} from '../../local/aws/rados-gateway.js';
import { createS3Client } from '../../shared/platform/aws-clients.js';

export {
  isRadosGatewayInstalled,
  RADOS_GATEWAY_INSTALL_COMMAND,
  type RadosGatewayCredentials,
  type RadosGatewayInfo,
} from '../../local/aws/rados-gateway.js';

export interface RadosGateway extends RadosGatewayInfo {
  /** Creates a user (its own S3 identity, no permissions on others' buckets until a policy grants them). */
  createUser(uid: string): Promise<RadosGatewayCredentials>;
  /** Attaches an inline IAM policy to a user, through the gateway's IAM API as the admin user. */
  putUserPolicy(uid: string, policyName: string, policyDocumentJson: string): Promise<void>;
}

export interface RunningRadosGateway extends RadosGateway, RunningLocalRadosGateway {}

/** Starts a throwaway gateway in a temporary folder (removed by stop()). */
export async function startRadosGateway(opts: StartRadosGatewayOptions = {}): Promise<RunningRadosGateway> {
  const running = await startLocalRadosGateway(opts);
  return { ...running, ...connectRadosGateway(running) };
}

/** A gateway started elsewhere (by the global setup), from the data it provided. */
export function connectRadosGateway(info: RadosGatewayInfo): RadosGateway {
  return {
    endpoint: info.endpoint,
    region: info.region,
    adminCredentials: info.adminCredentials,
    configFile: info.configFile,
    createUser: (uid) => createRadosGatewayUser(info.configFile, uid),
    async putUserPolicy(uid, policyName, policyDocumentJson) {
      const iam = new IAMClient({ endpoint: info.endpoint, region: info.region, credentials: info.adminCredentials });
      try {
        await iam.send(
          new PutUserPolicyCommand({ UserName: uid, PolicyName: policyName, PolicyDocument: policyDocumentJson }),
        );
      } finally {
        iam.destroy();
      }
    },
  };
}

/**
 * An S3 client for the gateway, configured as production's (createS3Client: path-style for a
 * loopback endpoint, checksums only where required, so no aws-chunked trailer, which this gateway
 * refuses with 411 MissingContentLength), signing as `credentials`.
 */
export function radosGatewayS3Client(gateway: RadosGatewayInfo, credentials = gateway.adminCredentials): S3Client {
  return createS3Client({ endpoint: gateway.endpoint, region: gateway.region, credentials });
}
