/** The one identity every local server, client and ARN uses: nothing local may reach real AWS. */

/** Region used for every local server, client and ARN. */
export const LOCAL_REGION = 'us-east-1';

/** The account id the local servers (fauxqs, the event source) put in ARNs. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/**
 * The API key the local stack's sample upstream accepts. Not a secret: it only opens the local
 * sample. Here, beside the local servers' identity, because the `archiver` CLI needs it too and the
 * CLI imports nothing from local/.
 */
export const SAMPLE_API_KEY = 'sk-ant-api01-local-sample-key';

/**
 * s3rver accepts only this access key; the other servers accept anything; `npm start` on the RADOS
 * Gateway gives its admin user this key (and secret), so every local client signs as that user.
 */
export const LOCAL_ACCESS_KEY = 'S3RVER';

/**
 * Points the SDK at the local servers' dummy identity: local credentials, the local region and no
 * instance-metadata probing. Real credentials, a session token or a profile in the caller's shell are
 * overridden, because nothing local may ever reach real AWS, and s3rver accepts only its own key.
 */
export function useLocalAwsEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_ACCESS_KEY_ID = LOCAL_ACCESS_KEY;
  env.AWS_SECRET_ACCESS_KEY = LOCAL_ACCESS_KEY;
  env.AWS_REGION = LOCAL_REGION;
  env.AWS_EC2_METADATA_DISABLED = 'true';
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
}
