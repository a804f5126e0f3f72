/**
 * What the smoke test talks to: the ingest queue and the lookup API of one stack.
 * - a deployed stack, found by its environment name through the outputs of its two CloudFormation
 *   stacks (`claude-file-archiver-<env>-data`: IngestQueueUrl; `-service`: LookupApiUrl), with the
 *   operator's AWS credentials (the default provider chain);
 * - the local stack `npm start` runs, found through its stack file (`<data dir>/stack.json`).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { useLocalAwsEnvironment } from '../shared/platform/local-account.js';
import { sampleFiles } from '../local/sample-data.js';
import { readStackInfo, stackFilePath } from '../shared/platform/local-stack-file.js';
import { DATA_STACK_OUTPUTS, SERVICE_STACK_OUTPUTS, stackNamesOf } from '../shared/contracts/stack-outputs.js';
import { createSqsClient } from '../shared/platform/aws-clients.js';
import { createSignedLookupApi, type LookupApi } from '../shared/platform/signed-lookup.js';

export interface SmokeTarget {
  kind: 'local' | 'deployed';
  /** Names the stack in the output, e.g. "deployed stack claude-file-archiver-prod (eu-west-1)". */
  label: string;
  /** One line on where the queue and the API are. */
  endpoints: string;
  lookup: LookupApi;
  /** Sends one message body to the ingest queue; resolves with its message id. */
  sendJob(body: string): Promise<string>;
  /** The file to archive when none is given: one of the local sample upstream's files. */
  defaultFileId: string | undefined;
}

/** The CloudFormation outputs the smoke test reads (pinned against the templates by the infra tests). */
export const SMOKE_STACK_OUTPUTS = {
  data: DATA_STACK_OUTPUTS.queueUrl,
  service: SERVICE_STACK_OUTPUTS.lookupUrl,
} as const;

export { stackNamesOf };

export async function resolveDeployedTarget(environment: string, region: string | undefined): Promise<SmokeTarget> {
  if (!/^[a-z][a-z0-9-]{0,11}$/.test(environment)) {
    throw new Error(
      `--stack takes a deployment's environment name (archiver:environment, e.g. prod), not "${environment}"`,
    );
  }
  const cfn = new CloudFormationClient(region ? { region } : {});
  const resolvedRegion = await cfn.config.region();
  const names = stackNamesOf(environment);
  const output = async (stackName: string, key: string): Promise<string> => {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const value = res.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
    if (!value) throw new Error(`stack ${stackName} has no output ${key}: was it deployed from this version?`);
    return value;
  };
  const [queueUrl, lookupUrl] = await Promise.all([
    output(names.data, SMOKE_STACK_OUTPUTS.data),
    output(names.service, SMOKE_STACK_OUTPUTS.service),
  ]);
  const sqs = createSqsClient({ region: resolvedRegion });
  return {
    kind: 'deployed',
    label: `deployed stack claude-file-archiver-${environment} (${resolvedRegion})`,
    endpoints: `queue ${queueUrl}, lookup API ${lookupUrl}`,
    lookup: createSignedLookupApi(lookupUrl, resolvedRegion),
    sendJob: async (body) =>
      (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }))).MessageId ?? '?',
    defaultFileId: undefined,
  };
}

export async function resolveLocalTarget(dataDir: string): Promise<SmokeTarget> {
  const info = await readStackInfo(dataDir);
  try {
    process.kill(info.pid, 0);
  } catch {
    throw new Error(
      `the local stack that wrote ${stackFilePath(dataDir)} (pid ${info.pid}) ` +
        `is not running: start it with "npm start"`,
    );
  }
  // The local servers' dummy identity; nothing local may reach real AWS.
  useLocalAwsEnvironment();
  const sqs = createSqsClient({ endpoint: info.sqs.endpoint, region: info.region });
  const sample = sampleFiles().find((f) => f.source === 'generated');
  return {
    kind: 'local',
    label: `local stack (${info.dataDir})`,
    endpoints: `queue ${info.sqs.queueUrl}, lookup API ${info.lookupUrl}`,
    lookup: createSignedLookupApi(info.lookupUrl, info.region),
    sendJob: async (body) =>
      (await sqs.send(new SendMessageCommand({ QueueUrl: info.sqs.queueUrl, MessageBody: body }))).MessageId ?? '?',
    defaultFileId: info.upstream.sample ? sample?.id : undefined,
  };
}
