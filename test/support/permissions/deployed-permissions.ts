import type { IConstruct } from 'constructs';
import { logicalIdOf, synthArchiver, type SynthesizedArchiver } from '../../infra/archiver-fixture.js';
import { POLLER_SOURCES, type PollerSource } from '../../../shared/contracts/discovery-ledger.js';
import { CloudFormationResolver, type CfnTemplate } from './cloudformation-resolver.js';
import type { LookupRole } from '../../../shared/contracts/lookup-routes.js';

/**
 * What the CDK app grants, as a deployment would have it: the identity policies of each function's
 * role and the resource policies and keys of the data stack, with every CloudFormation reference
 * resolved to fake but consistent ARNs in one account and region. Plain JSON, so the integration
 * project's global setup can synthesize it once per run and hand it to every test file.
 */
export interface DeployedPermissions {
  account: string;
  region: string;
  principals: Record<PrincipalName, DeployedPrincipal>;
  resources: Record<ResourceName, DeployedResource>;
  /** Key policies by key ARN. */
  keyPolicies: Record<string, PolicyDocument>;
  /** The lookup API's execute-api ARN prefix, `arn:aws:execute-api:<region>:<account>:<api id>`. */
  lookupApiArn: string;
}

/** A discovery poller function's role, by the poller's source. */
export type PollerPrincipal = `poller:${PollerSource}`;
/**
 * The identities whose calls the suite checks: the functions' roles, a job producer holding
 * JobProducerPolicy, and people holding one of the role policies (LookupApi: auditor, legal admin, operator).
 */
export type PrincipalName =
  | 'ingest'
  | 'lookup'
  | 'webhook'
  | 'exportWorker'
  | 'fixity'
  | 'jobProducer'
  | PollerPrincipal
  | LookupRole;

export const pollerPrincipal = (source: PollerSource): PollerPrincipal => `poller:${source}`;
/** The data stack's resources the functions are given (by environment variable) and use. */
export type ResourceName =
  | 'archiveBucket'
  | 'indexTable'
  | 'ingestQueue'
  | 'deadLetterQueue'
  | 'upstreamApiKey'
  | 'webhookReplayTable'
  | 'webhookSecret'
  | 'exportsBucket'
  | 'exportQueue'
  | 'exportDeadLetterQueue';

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface DeployedPrincipal {
  arn: string;
  policies: { name: string; policy: PolicyDocument }[];
  /** The environment of the function that runs with this role (resolved), when it is a function's role. */
  environment: Record<string, string> | undefined;
}

export interface DeployedResource {
  arn: string;
  /** Bucket, table or queue name; the secret's ARN. */
  name: string;
  /** The customer-managed key that encrypts it at rest, which callers then use through the service. */
  keyArn: string | undefined;
  /** Bucket policy, queue policy or other resource-based policy, when the template has one. */
  resourcePolicy: PolicyDocument | undefined;
  /** A table's partition key attribute (its KeySchema HASH key): what `dynamodb:LeadingKeys` holds. */
  partitionKey?: string;
}

export const FAKE_ACCOUNT = '111122223333';
export const FAKE_REGION = 'us-east-1';

/**
 * Synthesizes the CDK app with cdk.json's context (bundling and the CDK's template validation
 * skipped: the infra project covers both) and extracts the permissions the deployment would have.
 */
export function synthesizeDeployedPermissions(): DeployedPermissions {
  return deployedPermissionsOf(synthArchiver({}, { builtinCloudFormationValidation: false }));
}

export function deployedPermissionsOf(app: SynthesizedArchiver): DeployedPermissions {
  const dataStack = app.data.stackName;
  const serviceStack = app.service.stackName;
  const templates: Record<string, CfnTemplate> = {
    [dataStack]: app.dataTemplate.toJSON() as CfnTemplate,
    [serviceStack]: app.serviceTemplate.toJSON() as CfnTemplate,
  };
  const cfn = new CloudFormationResolver({ account: FAKE_ACCOUNT, region: FAKE_REGION, stacks: templates });
  const dataResources = templates[dataStack]?.Resources ?? {};
  const serviceResources = templates[serviceStack]?.Resources ?? {};

  const policy = (stack: string, doc: unknown) => cfn.resolve(stack, doc) as PolicyDocument;

  function principalOfRole(role: IConstruct): DeployedPrincipal {
    const id = logicalIdOf(role);
    const refersToRole = (roles: unknown) =>
      Array.isArray(roles) && roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: id }));
    const policies: DeployedPrincipal['policies'] = [];
    const roleProps = serviceResources[id]?.Properties ?? {};
    if (roleProps['ManagedPolicyArns'] !== undefined)
      throw new Error(`role ${id} attaches managed policies, which the permission checks do not read`);
    for (const inline of (roleProps['Policies'] ?? []) as { PolicyName: string; PolicyDocument: unknown }[]) {
      policies.push({ name: inline.PolicyName, policy: policy(serviceStack, inline.PolicyDocument) });
    }
    for (const [pid, r] of Object.entries(serviceResources)) {
      if (
        (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') &&
        refersToRole(r.Properties?.['Roles'])
      ) {
        policies.push({ name: pid, policy: policy(serviceStack, r.Properties?.['PolicyDocument']) });
      }
    }
    if (policies.length === 0) throw new Error(`role ${id} has no policy`);
    const roleArn = JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });
    const fn = Object.values(serviceResources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties?.['Role']) === roleArn,
    );
    const variables = (fn?.Properties?.['Environment'] as { Variables?: unknown } | undefined)?.Variables;
    const environment =
      variables === undefined ? undefined : (cfn.resolve(serviceStack, variables) as Record<string, string>);
    return { arn: cfn.arnOf(serviceStack, id), policies, environment };
  }

  const producerPolicies = Object.entries(serviceResources).filter(
    ([pid, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && pid.startsWith('JobProducerPolicy'),
  );
  if (producerPolicies.length !== 1)
    throw new Error(`expected one JobProducerPolicy, found ${producerPolicies.length}`);
  const [producerId, producer] = producerPolicies[0] as [string, { Properties?: Record<string, unknown> }];

  /** A person (an assumed role) whose only policy is the managed policy `construct`. */
  function holderOf(construct: IConstruct, roleName: string): DeployedPrincipal {
    const id = logicalIdOf(construct);
    return {
      arn: `arn:aws:iam::${FAKE_ACCOUNT}:role/${roleName}`,
      policies: [{ name: id, policy: policy(serviceStack, serviceResources[id]?.Properties?.['PolicyDocument']) }],
      environment: undefined,
    };
  }

  function keyOf(stack: string, raw: unknown): string | undefined {
    if (raw === undefined) return undefined;
    const arn = cfn.resolveString(stack, raw);
    if (!arn.startsWith('arn:aws:kms:'))
      throw new Error(`encryption key ${arn} is not a key ARN: the permission checks cannot follow it`);
    return arn;
  }
  /** The single resource policy of `type` whose `property` refers to the resource (by Ref). */
  function resourcePolicyOf(type: string, property: string, id: string): PolicyDocument | undefined {
    const ref = JSON.stringify({ Ref: id });
    const found = Object.values(dataResources).filter((r) => {
      if (r.Type !== type) return false;
      const target = r.Properties?.[property];
      return Array.isArray(target) ? target.some((t) => JSON.stringify(t) === ref) : JSON.stringify(target) === ref;
    });
    if (found.length > 1) throw new Error(`more than one ${type} for ${id}`);
    return found[0] ? policy(dataStack, found[0].Properties?.['PolicyDocument']) : undefined;
  }
  function dataResource(
    construct: IConstruct,
    name: string,
    keyArn: string | undefined,
    resourcePolicy: PolicyDocument | undefined,
  ): DeployedResource {
    return { arn: cfn.arnOf(dataStack, logicalIdOf(construct)), name, keyArn, resourcePolicy };
  }

  const bucketOf = (construct: IConstruct): DeployedResource => {
    const id = logicalIdOf(construct);
    const sse = (
      dataResources[id]?.Properties?.['BucketEncryption'] as
        | {
            ServerSideEncryptionConfiguration?: {
              ServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: unknown };
            }[];
          }
        | undefined
    )?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
    return dataResource(
      construct,
      cfn.resolveString(dataStack, { Ref: id }),
      sse?.SSEAlgorithm === 'aws:kms' ? keyOf(dataStack, sse.KMSMasterKeyID) : undefined,
      resourcePolicyOf('AWS::S3::BucketPolicy', 'Bucket', id),
    );
  };
  const queueOf = (construct: IConstruct): DeployedResource => {
    const id = logicalIdOf(construct);
    return dataResource(
      construct,
      cfn.resolveString(dataStack, { 'Fn::GetAtt': [id, 'QueueName'] }),
      keyOf(dataStack, dataResources[id]?.Properties?.['KmsMasterKeyId']),
      resourcePolicyOf('AWS::SQS::QueuePolicy', 'Queues', id),
    );
  };
  const tableOf = (construct: IConstruct): DeployedResource => {
    const id = logicalIdOf(construct);
    const props = dataResources[id]?.Properties ?? {};
    const sseSpec = props['SSESpecification'] as { SSEType?: string; KMSMasterKeyId?: unknown } | undefined;
    const hash = (props['KeySchema'] as { AttributeName: string; KeyType: string }[] | undefined)?.find(
      (k) => k.KeyType === 'HASH',
    );
    if (!hash) throw new Error(`table ${id} has no partition key in its KeySchema`);
    return {
      ...dataResource(
        construct,
        cfn.resolveString(dataStack, { Ref: id }),
        sseSpec?.SSEType === 'KMS' ? keyOf(dataStack, sseSpec.KMSMasterKeyId) : undefined,
        props['ResourcePolicy'] === undefined
          ? undefined
          : policy(dataStack, (props['ResourcePolicy'] as { PolicyDocument: unknown }).PolicyDocument),
      ),
      partitionKey: hash.AttributeName,
    };
  };
  const secretOf = (construct: IConstruct): DeployedResource => {
    const id = logicalIdOf(construct);
    const arn = cfn.resolveString(dataStack, { Ref: id });
    return {
      arn,
      name: arn,
      keyArn: keyOf(dataStack, dataResources[id]?.Properties?.['KmsKeyId']),
      resourcePolicy: resourcePolicyOf('AWS::SecretsManager::ResourcePolicy', 'SecretId', id),
    };
  };

  const resources: Record<ResourceName, DeployedResource> = {
    archiveBucket: bucketOf(app.data.archive.bucket),
    indexTable: tableOf(app.data.index.table),
    ingestQueue: queueOf(app.data.queues.queue),
    deadLetterQueue: queueOf(app.data.queues.deadLetterQueue),
    upstreamApiKey: secretOf(app.data.upstreamApiKey),
    webhookReplayTable: tableOf(app.data.webhook.replayTable),
    webhookSecret: secretOf(app.data.webhook.secret),
    exportsBucket: bucketOf(app.data.exports.bucket),
    exportQueue: queueOf(app.data.exportQueues.queue),
    exportDeadLetterQueue: queueOf(app.data.exportQueues.deadLetterQueue),
  };

  const keyPolicies: Record<string, PolicyDocument> = {};
  for (const [id, r] of Object.entries(dataResources)) {
    if (r.Type === 'AWS::KMS::Key')
      keyPolicies[cfn.arnOf(dataStack, id)] = policy(dataStack, r.Properties?.['KeyPolicy']);
  }
  for (const r of Object.values(resources)) {
    if (r.keyArn && !keyPolicies[r.keyArn]) throw new Error(`no key policy for ${r.keyArn}`);
  }

  return {
    account: FAKE_ACCOUNT,
    region: FAKE_REGION,
    principals: {
      ingest: principalOfRole(app.service.ingest.role),
      lookup: principalOfRole(app.service.lookup.role),
      webhook: principalOfRole(app.service.webhook.function.role),
      fixity: principalOfRole(app.service.fixity.function.role),
      exportWorker: principalOfRole(app.service.exportWorker.role),
      ...(Object.fromEntries(
        POLLER_SOURCES.map((source) => [
          pollerPrincipal(source),
          principalOfRole(app.service.discovery.functions[source].role),
        ]),
      ) as Record<PollerPrincipal, DeployedPrincipal>),
      jobProducer: {
        arn: `arn:aws:iam::${FAKE_ACCOUNT}:role/job-producer`,
        policies: [{ name: producerId, policy: policy(serviceStack, producer.Properties?.['PolicyDocument']) }],
        environment: undefined,
      },
      auditor: holderOf(app.service.lookupApi.auditorPolicy, 'auditor'),
      legalAdmin: holderOf(app.service.lookupApi.legalAdminPolicy, 'legal-admin'),
      operator: holderOf(app.service.lookupApi.operatorPolicy, 'operator'),
    },
    resources,
    keyPolicies,
    lookupApiArn:
      `arn:aws:execute-api:${FAKE_REGION}:${FAKE_ACCOUNT}:` +
      `${cfn.resolveString(serviceStack, { Ref: logicalIdOf(app.service.lookupApi.api) })}`,
  };
}
