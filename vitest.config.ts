import { defineConfig } from 'vitest/config';

// Tests only ever talk to loopback servers. Forcing dummy credentials (s3rver accepts only the key
// S3RVER) means a developer's real AWS credentials are never picked up, and with the metadata
// service disabled the SDK never probes for any.
const localAwsEnv = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};

// Three tiers, each runnable alone with `npx vitest run --project <name>`:
// unit (pure logic), integration (handlers against real local AWS servers and a test upstream),
// infra (CDK template assertions and the cdk-nag pack).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          env: localAwsEnv,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          // Checks every recorded AWS call against the synthesized role policies after each test.
          setupFiles: ['test/support/permission-setup.ts'],
          env: localAwsEnv,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
    ],
  },
});
