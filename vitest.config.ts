import { defineConfig } from 'vitest/config';

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
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
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
