import { describe, expect, it } from 'vitest';
import { useLocalAwsEnvironment } from '../../local/aws-servers.js';

describe('useLocalAwsEnvironment', () => {
  it('sets dummy credentials s3rver accepts, the region and disables the metadata service', () => {
    const env: NodeJS.ProcessEnv = {};
    useLocalAwsEnvironment(env);
    expect(env).toEqual({
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });

  it('leaves variables that are already set alone', () => {
    const env: NodeJS.ProcessEnv = { AWS_REGION: 'eu-west-1', AWS_EC2_METADATA_DISABLED: 'false' };
    useLocalAwsEnvironment(env);
    expect(env.AWS_REGION).toBe('eu-west-1');
    expect(env.AWS_EC2_METADATA_DISABLED).toBe('false');
    expect(env.AWS_ACCESS_KEY_ID).toBe('S3RVER');
  });
});
