/**
 * Which server answers S3 for `npm start`: ARCHIVER_S3 unset or `s3rver` keeps the archive on disk in
 * the data folder (no Object Lock: legal holds are recorded on the index only); `rgw` runs Ceph's
 * RADOS Gateway (real versions and Object Lock) on a folder of its own that starts empty each time.
 */
import { join } from 'node:path';
import { isRadosGatewayInstalled, RADOS_GATEWAY_INSTALL_COMMAND } from './aws/rados-gateway-config.js';

export interface LocalS3Choice {
  server: 's3rver' | 'rgw';
  /** Where the local servers keep their data: the data folder itself, or its `rgw-session` folder. */
  serverDataDir: string;
}

/** The gateway was asked for and cannot run here; the message is one line with the install command. */
export class LocalS3Unavailable extends Error {
  override name = 'LocalS3Unavailable';
}

export function chooseLocalS3(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  gatewayInstalled: () => boolean = isRadosGatewayInstalled,
): LocalS3Choice {
  const value = env['ARCHIVER_S3']?.trim() || 's3rver';
  if (value === 's3rver') return { server: 's3rver', serverDataDir: dataDir };
  if (value !== 'rgw') throw new Error(`ARCHIVER_S3 must be s3rver (the default) or rgw, not "${value}"`);
  if (!gatewayInstalled()) {
    throw new LocalS3Unavailable(
      `ARCHIVER_S3=rgw needs Ceph's RADOS Gateway, which is not installed; as root: ${RADOS_GATEWAY_INSTALL_COMMAND}`,
    );
  }
  return { server: 'rgw', serverDataDir: join(dataDir, 'rgw-session') };
}
