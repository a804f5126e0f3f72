import { describeCdkNag } from './cdk-nag.suite.js';
import { CUSTOM_CONTEXT, synthArchiver, type ArchiverSynths } from './archiver-fixture.js';
import { describeDataStack } from './data-stack.suite.js';
import { describeDiscovery } from './discovery.suite.js';
import { describeFixityAudit } from './fixity.suite.js';
import { describeLeastPrivilege } from './least-privilege.suite.js';
import { describeServiceStack } from './service-stack.suite.js';
import { describeWebhook } from './webhook.suite.js';

// The suites live in separate files by concern but share two syntheses (about 2 s for the first,
// 0.5 s for the second), instead of paying the CDK's warm-up once per test file.
const synths: ArchiverSynths = { defaults: synthArchiver(), custom: synthArchiver(CUSTOM_CONTEXT) };

describeDataStack(synths);
describeServiceStack(synths);
describeDiscovery(synths);
describeFixityAudit(synths);
describeLeastPrivilege(synths);
describeWebhook(synths);
describeCdkNag(synths);
