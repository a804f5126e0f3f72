import { type App, Tags } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { parseDeploymentConfig, type DeploymentConfig } from './deployment-config.js';
import { DataStack } from './data-stack.js';
import { namePrefixOf } from './naming.js';
import { ServiceStack } from './service-stack.js';

export interface ArchiverStacks {
  readonly config: DeploymentConfig;
  readonly data: DataStack;
  readonly service: ServiceStack;
}

/** Where to deploy; both unset gives environment-agnostic stacks (offline synth, tests). */
export interface DeploymentTarget {
  readonly account?: string | undefined;
  readonly region?: string | undefined;
}

/**
 * Adds the archiver's two stacks to an app, configured from the app's `archiver:*` context. Shared
 * by the CDK entry point (infra/app.ts) and the template tests, so both build the same thing.
 */
export function addArchiverStacks(app: App, target: DeploymentTarget = {}): ArchiverStacks {
  const config = parseDeploymentConfig(app.node.getAllContext());
  const namePrefix = namePrefixOf(config.environment);
  const env = {
    ...(target.account ? { account: target.account } : {}),
    ...(target.region ? { region: target.region } : {}),
  };

  const data = new DataStack(app, 'ArchiverData', {
    stackName: `${namePrefix}-data`,
    description: 'Claude file archiver: stateful resources (keys, archive bucket, index table, queues, secret)',
    env,
    config,
    namePrefix,
  });
  const service = new ServiceStack(app, 'ArchiverService', {
    stackName: `${namePrefix}-service`,
    description: 'Claude file archiver: functions, lookup API, alarms and dashboard',
    env,
    config,
    namePrefix,
    data,
    // The config schema admits only the day counts CloudWatch accepts, which are the enum's values.
    logRetention: config.logRetentionDays as logs.RetentionDays,
  });
  // Explicit, although the references imply it: the data stack deploys first and never the other way.
  service.addStackDependency(data, 'functions use the data stack’s bucket, table, queues, keys and secret');

  for (const stack of [data, service]) {
    Tags.of(stack).add('project', 'claude-file-archiver');
    Tags.of(stack).add('environment', config.environment);
  }
  return { config, data, service };
}
