import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addArchiverStacks } from './archiver-app.js';
import { ConfigurationError } from '../shared/platform/errors.js';

/**
 * CDK entry point (cdk.json: `npx tsx infra/app.ts`). cdk-nag's AwsSolutions pack runs as a policy
 * validation plugin on every synth: an unacknowledged error fails `cdk synth` and `cdk deploy`.
 */
const app = new App();
try {
  // The CLI sets these from the active profile; without credentials (offline synth) they are unset
  // and the stacks are environment-agnostic.
  addArchiverStacks(app, {
    account: process.env['CDK_DEFAULT_ACCOUNT'],
    region: process.env['CDK_DEFAULT_REGION'],
  });
} catch (err) {
  if (err instanceof ConfigurationError) {
    // A configuration mistake is the operator's to fix: print it plainly, without a stack trace.
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
