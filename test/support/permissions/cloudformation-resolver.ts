import { createHash } from 'node:crypto';

/** A synthesized CloudFormation template, as `Template.toJSON()` or `cdk synth` gives it. */
export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, { Value: unknown }>;
}

/** Where the fake deployment lives: every ARN the resolver makes is in this account and region. */
export interface FakeDeployment {
  account: string;
  region: string;
  /** Templates by stack name (the StackName that `Fn::GetStackOutput` refers to). */
  stacks: Record<string, CfnTemplate>;
}

/**
 * Resolves CloudFormation's intrinsic functions in synthesized templates to the values a deployment
 * would give, with fake but consistent physical names: the same resource always gets the same name,
 * ARN, queue URL or key id, whichever stack refers to it (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
 * Fn::GetStackOutput). Anything it does not know (a resource type, an attribute, an intrinsic) is an
 * error, so a template change that the permission checks cannot follow fails loudly instead of being
 * resolved to something wrong.
 */
export class CloudFormationResolver {
  constructor(private readonly deployment: FakeDeployment) {}

  /** `value`, as found in stack `stackName`, with every intrinsic resolved. */
  resolve(stackName: string, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stackName, v));
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      return this.resolveIntrinsic(stackName, first[0], first[1]);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(stackName, v)]));
  }

  /** Like resolve, for a value that must come out as a string (a name or an ARN). */
  resolveString(stackName: string, value: unknown): string {
    const resolved = this.resolve(stackName, value);
    if (typeof resolved !== 'string')
      throw new Error(`expected a string, resolved ${JSON.stringify(value)} to ${JSON.stringify(resolved)}`);
    return resolved;
  }

  /** The ARN of a resource (its `Fn::GetAtt [id, Arn]`). */
  arnOf(stackName: string, logicalId: string): string {
    return this.attribute(stackName, logicalId, 'Arn');
  }

  template(stackName: string): CfnTemplate {
    const template = this.deployment.stacks[stackName];
    if (!template) throw new Error(`no template for stack ${stackName}`);
    return template;
  }

  private resolveIntrinsic(stackName: string, fn: string, arg: unknown): unknown {
    switch (fn) {
      case 'Ref':
        return this.ref(stackName, stringArg(fn, arg));
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg : stringArg(fn, arg).split('.');
        return this.attribute(stackName, stringArg(fn, id), stringArg(fn, attr));
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2 || !Array.isArray(arg[1]))
          throw new Error(`malformed Fn::Join ${JSON.stringify(arg)}`);
        const parts = (arg[1] as unknown[]).map((p) => this.resolveString(stackName, p));
        return parts.join(stringArg(fn, arg[0]));
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? [arg[0], (arg[1] ?? {}) as Record<string, unknown>] : [arg, {}];
        return stringArg(fn, text).replace(/\$\{([^}!][^}]*)\}/g, (_m, name: string) => {
          if (name in vars) return this.resolveString(stackName, vars[name]);
          const [id, attr] = name.split('.');
          return attr ? this.attribute(stackName, stringArg(fn, id), attr) : this.ref(stackName, name);
        });
      }
      case 'Fn::GetStackOutput': {
        const { StackName, OutputName } = arg as { StackName?: unknown; OutputName?: unknown };
        const other = this.resolveString(stackName, StackName);
        const output = this.template(other).Outputs?.[stringArg(fn, OutputName)];
        if (!output) throw new Error(`stack ${other} has no output ${String(OutputName)}`);
        return this.resolve(other, output.Value);
      }
      case 'Fn::Select': {
        if (!Array.isArray(arg) || arg.length !== 2) throw new Error(`malformed Fn::Select ${JSON.stringify(arg)}`);
        const list = this.resolve(stackName, arg[1]);
        if (!Array.isArray(list)) throw new Error(`Fn::Select over ${JSON.stringify(list)}`);
        return list[Number(this.resolve(stackName, arg[0]))];
      }
      case 'Fn::Split': {
        if (!Array.isArray(arg) || arg.length !== 2) throw new Error(`malformed Fn::Split ${JSON.stringify(arg)}`);
        return this.resolveString(stackName, arg[1]).split(stringArg(fn, arg[0]));
      }
      default:
        throw new Error(`intrinsic ${fn} is not supported by the permission checks' resolver`);
    }
  }

  private ref(stackName: string, name: string): string {
    const { account, region } = this.deployment;
    switch (name) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::AccountId':
        return account;
      case 'AWS::Region':
        return region;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
    }
    const type = this.resourceType(stackName, name);
    switch (type) {
      case 'AWS::SQS::Queue':
        return this.attribute(stackName, name, 'QueueUrl');
      case 'AWS::KMS::Key':
        return this.attribute(stackName, name, 'KeyId');
      case 'AWS::SecretsManager::Secret':
        return this.attribute(stackName, name, 'Id');
      case 'AWS::SNS::Topic':
        // A topic's Ref is its ARN.
        return `arn:aws:sns:${region}:${account}:${this.physicalName(stackName, name)}`;
      case 'AWS::ApiGateway::RestApi':
        // A REST API's Ref is its id: ten lowercase letters and digits, the first part of its execute-api ARN.
        return fakeUuid(`${stackName}/${name}`).replace(/-/g, '').slice(0, 10);
      default:
        return this.physicalName(stackName, name);
    }
  }

  private attribute(stackName: string, logicalId: string, attr: string): string {
    const { account, region } = this.deployment;
    const type = this.resourceType(stackName, logicalId);
    const name = () => this.physicalName(stackName, logicalId);
    const key = `${type} ${attr}`;
    switch (key) {
      case 'AWS::S3::Bucket Arn':
        return `arn:aws:s3:::${name()}`;
      case 'AWS::DynamoDB::Table Arn':
        return `arn:aws:dynamodb:${region}:${account}:table/${name()}`;
      case 'AWS::SQS::Queue Arn':
        return `arn:aws:sqs:${region}:${account}:${name()}`;
      case 'AWS::SQS::Queue QueueName':
        return name();
      case 'AWS::SQS::Queue QueueUrl':
        return `https://sqs.${region}.amazonaws.com/${account}/${name()}`;
      case 'AWS::KMS::Key KeyId':
        return fakeUuid(`${stackName}/${logicalId}`);
      case 'AWS::KMS::Key Arn':
        return `arn:aws:kms:${region}:${account}:key/${fakeUuid(`${stackName}/${logicalId}`)}`;
      case 'AWS::SecretsManager::Secret Id':
        // Secrets Manager appends six random characters to a secret's name in its ARN.
        return `arn:aws:secretsmanager:${region}:${account}:secret:${name()}-${fakeUuid(logicalId).slice(0, 6)}`;
      case 'AWS::Logs::LogGroup Arn':
        return `arn:aws:logs:${region}:${account}:log-group:${name()}:*`;
      case 'AWS::IAM::Role Arn':
        return `arn:aws:iam::${account}:role/${name()}`;
      case 'AWS::IAM::ManagedPolicy PolicyArn':
        return `arn:aws:iam::${account}:policy/${name()}`;
      default:
        throw new Error(`the permission checks' resolver does not know ${key} (${stackName}/${logicalId})`);
    }
  }

  /**
   * The explicit physical name when the template sets one, else a stable made-up one, as CloudFormation would generate.
   */
  private physicalName(stackName: string, logicalId: string): string {
    const resource = this.template(stackName).Resources[logicalId];
    if (!resource) throw new Error(`stack ${stackName} has no resource ${logicalId}`);
    const nameProperty = PHYSICAL_NAME_PROPERTY[resource.Type];
    if (nameProperty === undefined)
      throw new Error(`the permission checks' resolver does not name ${resource.Type} (${logicalId})`);
    const explicit = resource.Properties?.[nameProperty];
    if (explicit !== undefined) return this.resolveString(stackName, explicit);
    const generated =
      `${stackName}-${logicalId}-` +
      `${fakeUuid(`${stackName}/${logicalId}`).replace(/-/g, '').slice(0, 12).toUpperCase()}`;
    return resource.Type === 'AWS::S3::Bucket' ? generated.toLowerCase() : generated;
  }

  private resourceType(stackName: string, logicalId: string): string {
    const resource = this.template(stackName).Resources[logicalId];
    if (!resource) throw new Error(`stack ${stackName} has no resource ${logicalId}`);
    return resource.Type;
  }
}

const PHYSICAL_NAME_PROPERTY: Record<string, string> = {
  'AWS::S3::Bucket': 'BucketName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
};

function stringArg(fn: string, value: unknown): string {
  if (typeof value !== 'string') throw new Error(`${fn}: expected a string argument, got ${JSON.stringify(value)}`);
  return value;
}

/** A UUID-shaped id derived from `seed`, so the same resource gets the same id in every run. */
function fakeUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
