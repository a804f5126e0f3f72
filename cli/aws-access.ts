/**
 * The AWS calls the CLI makes outside the shared adapters: reading a deployed stack's outputs and
 * its upstream key secret, building clients for a stack's resources, and turning SDK errors into one
 * readable line.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createSqsClient } from '../shared/platform/aws-clients.js';
import { CliError } from './exit-codes.js';
import { describeCredentialsError } from './lookup-client.js';
import type { StackResources } from './stack-target.js';

export async function readStackOutputs(stackName: string, region: string | undefined): Promise<Record<string, string>> {
  const cfn = new CloudFormationClient(region ? { region } : {});
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs: Record<string, string> = {};
    for (const o of res.Stacks?.[0]?.Outputs ?? [])
      if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] = o.OutputValue;
    return outputs;
  } catch (err) {
    if (err instanceof Error && err.name === 'ValidationError' && /does not exist/.test(err.message)) {
      throw new CliError(
        `stack ${stackName} does not exist${region ? ` in ${region}` : ' in the default region'} (give --region?)`,
      );
    }
    throw awsFailure(`cannot read the outputs of stack ${stackName}`, err);
  } finally {
    cfn.destroy();
  }
}

export async function readSecretString(arn: string, region: string | undefined): Promise<string> {
  const sm = new SecretsManagerClient(region ? { region } : {});
  try {
    const res = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!res.SecretString) throw new CliError('the upstream key secret holds no string');
    return res.SecretString.trim();
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw awsFailure('cannot read the upstream API key secret (or set ANTHROPIC_API_KEY)', err);
  } finally {
    sm.destroy();
  }
}

export interface StackClients {
  sqs: SQSClient;
  doc: DynamoDBDocumentClient;
  destroy(): void;
}

export function createStackClients(resources: StackResources): StackClients {
  const sqs = createSqsClient({ endpoint: resources.endpoints?.sqs, region: resources.region });
  const doc = createDocumentClient({ endpoint: resources.endpoints?.dynamodb, region: resources.region });
  return {
    sqs,
    doc,
    destroy() {
      sqs.destroy();
      doc.destroy();
    },
  };
}

/** The stack's queues and index table, with the clients that reach them: what `status` and `dlq` read. */
export interface StackQueuesAndIndex {
  sqs: SQSClient;
  doc: DynamoDBDocumentClient;
  table: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  now(): number;
}

/**
 * Runs `use` over the stack's queues and index table with fresh clients, destroyed afterwards; an
 * AWS failure becomes one line that starts with what was being done.
 */
export async function withStackQueuesAndIndex<T>(
  resources: StackResources,
  now: () => number,
  doing: string,
  use: (deps: StackQueuesAndIndex) => Promise<T>,
): Promise<T> {
  const clients = createStackClients(resources);
  try {
    return await use({
      ...clients,
      table: resources.table,
      queueUrl: resources.queueUrl,
      deadLetterQueueUrl: resources.deadLetterQueueUrl,
      now,
    });
  } catch (err) {
    throw awsFailure(doing, err);
  } finally {
    clients.destroy();
  }
}

/** One line for an AWS SDK failure: what was being done, the error's name and the first line of its message. */
export function awsFailure(doing: string, err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof Error && err.name === 'CredentialsProviderError')
    return new CliError(`${doing}: ${describeCredentialsError(err)}`);
  if (err instanceof Error) {
    const first = err.message.split('\n')[0] ?? '';
    const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
    return new CliError(`${doing}: ${name}${first}`.slice(0, 600));
  }
  return new CliError(`${doing}: ${String(err)}`);
}
