import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { logicalIdOf, resourcesOf, synthArchiver } from './archiver-fixture.js';
import { CloudFormationResolver, type CfnTemplate } from '../support/permissions/cloudformation-resolver.js';
import { FAKE_ACCOUNT, FAKE_REGION, type PolicyDocument } from '../support/permissions/deployed-permissions.js';

// Whether an alarm can reach anyone: CloudWatch publishes an alarm's notification as the CloudWatch
// service (cloudwatch.amazonaws.com), with the alarm as aws:SourceArn and its account as
// aws:SourceAccount, to a topic encrypted with a customer-managed key, which SNS uses on the
// publisher's behalf (kms:GenerateDataKey* and kms:Decrypt). The synthesized topic policy and key
// policy, resolved as a deployment in one account and region would have them, go through the IAM
// policy simulator for each alarm of the app, and for alarms that are not this stack's.

const app = synthArchiver({}, { builtinCloudFormationValidation: false });
const serviceStack = app.service.stackName;
const template = app.serviceTemplate.toJSON() as CfnTemplate;
const cfn = new CloudFormationResolver({
  account: FAKE_ACCOUNT,
  region: FAKE_REGION,
  stacks: { [serviceStack]: template, [app.data.stackName]: app.dataTemplate.toJSON() as CfnTemplate },
});
const topicArn = cfn.resolveString(serviceStack, { Ref: logicalIdOf(app.service.monitoring.topic) });
const topicPolicy = (() => {
  const policies = Object.values(resourcesOf(app.serviceTemplate, 'AWS::SNS::TopicPolicy'));
  expect(policies).toHaveLength(1);
  return cfn.resolve(serviceStack, policies[0]?.Properties['PolicyDocument']) as PolicyDocument;
})();
const topicId = logicalIdOf(app.service.monitoring.topic.node.findChild('Resource'));
const topicKeyArn = (() => {
  const topic = resourcesOf(app.serviceTemplate, 'AWS::SNS::Topic')[topicId];
  return cfn.resolveString(serviceStack, topic?.Properties['KmsMasterKeyId']);
})();
const keyPolicy = (() => {
  const keyLogicalId = Object.keys(resourcesOf(app.serviceTemplate, 'AWS::KMS::Key')).find(
    (id) => cfn.arnOf(serviceStack, id) === topicKeyArn,
  );
  if (!keyLogicalId) throw new Error(`no key ${topicKeyArn} in the service stack`);
  const key = resourcesOf(app.serviceTemplate, 'AWS::KMS::Key')[keyLogicalId];
  return cfn.resolve(serviceStack, key?.Properties['KeyPolicy']) as PolicyDocument;
})();
const alarmNames = Object.values(resourcesOf(app.serviceTemplate, 'AWS::CloudWatch::Alarm')).map((a) =>
  cfn.resolveString(serviceStack, a.Properties['AlarmName']),
);

const alarmArn = (name: string, account = FAKE_ACCOUNT) => `arn:aws:cloudwatch:${FAKE_REGION}:${account}:alarm:${name}`;

/** The simulator's decision for CloudWatch doing `action` on `resource` for the alarm `sourceArn`. */
async function decide(
  action: string,
  resource: string,
  resourcePolicy: PolicyDocument,
  source: { arn: string; account: string },
): Promise<string> {
  const simulation = {
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy,
    request: {
      action,
      principal: 'cloudwatch.amazonaws.com',
      resource: { resource, accountId: FAKE_ACCOUNT },
      contextVariables: {
        'aws:SourceArn': source.arn,
        'aws:SourceAccount': source.account,
        'aws:SecureTransport': 'true',
      },
    },
  } as unknown as Simulation;
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`simulator refused the request: ${JSON.stringify(result.errors)}`);
  return result.overallResult;
}

/** Every step of one notification: the publish, and SNS's use of the topic key for it. */
async function deliver(source: { arn: string; account: string }): Promise<Record<string, string>> {
  return {
    'sns:Publish': await decide('sns:Publish', topicArn, topicPolicy, source),
    'kms:GenerateDataKey': await decide('kms:GenerateDataKey', topicKeyArn, keyPolicy, source),
    'kms:Decrypt': await decide('kms:Decrypt', topicKeyArn, keyPolicy, source),
  };
}

const ALLOWED = { 'sns:Publish': 'Allowed', 'kms:GenerateDataKey': 'Allowed', 'kms:Decrypt': 'Allowed' };

describe('alarm notifications (policy simulator over the synthesized topic and key policies)', () => {
  it('reach the topic from every alarm of the app', async () => {
    // Every alarm the constructs made (ingest, lookup, webhook, each poller, the budget, fixity, ...)
    // is in the template.
    const made = [
      ...Object.values(app.service.monitoring.alarms),
      ...Object.values(app.service.discovery.alarms),
      app.service.fixity.alarm,
    ];
    expect(made.length).toBeGreaterThanOrEqual(18);
    expect(alarmNames).toHaveLength(made.length);
    for (const name of alarmNames) {
      expect(await deliver({ arn: alarmArn(name), account: FAKE_ACCOUNT }), name).toEqual(ALLOWED);
    }
  });

  it('are refused for an alarm of another account, even one named like this stack’s', async () => {
    const foreign = '444455556666';
    const decisions = await deliver({
      arn: alarmArn('claude-file-archiver-dev-IngestFunctionErrors', foreign),
      account: foreign,
    });
    for (const [action, decision] of Object.entries(decisions)) expect(decision, action).not.toBe('Allowed');
  });

  it('are refused for an alarm of this account that is not this stack’s', async () => {
    const decisions = await deliver({ arn: alarmArn('someone-elses-alarm'), account: FAKE_ACCOUNT });
    for (const [action, decision] of Object.entries(decisions)) expect(decision, action).not.toBe('Allowed');
  });

  it('are refused for an account that claims this one as source but names its own alarm', async () => {
    const decisions = await deliver({
      arn: alarmArn('claude-file-archiver-dev-IngestFunctionErrors', '444455556666'),
      account: FAKE_ACCOUNT,
    });
    for (const [action, decision] of Object.entries(decisions)) expect(decision, action).not.toBe('Allowed');
  });
});
