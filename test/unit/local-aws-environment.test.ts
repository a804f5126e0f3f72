import { describe, expect, it } from 'vitest';
import { useLocalAwsEnvironment } from '../../shared/platform/local-account.js';

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

  it('overrides real credentials, session tokens and profiles so nothing local can reach real AWS', () => {
    const env: NodeJS.ProcessEnv = {
      AWS_ACCESS_KEY_ID: 'AKIAREALKEY',
      AWS_SECRET_ACCESS_KEY: 'real-secret',
      AWS_SESSION_TOKEN: 'token',
      AWS_PROFILE: 'prod',
      AWS_REGION: 'eu-west-1',
      AWS_EC2_METADATA_DISABLED: 'false',
    };
    useLocalAwsEnvironment(env);
    expect(env).toEqual({
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });
});
