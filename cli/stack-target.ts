/**
 * Which stack a command talks to, and how. Three ways in:
 * - `--lookup-url URL` (or ARCHIVER_LOOKUP_URL): only the lookup API of a deployed stack, signed
 *   with SigV4 (an auditor whose credentials may call the API but not read CloudFormation);
 * - `--stack ENV` (or ARCHIVER_STACK): a deployed stack, read from the outputs of its two
 *   CloudFormation stacks (`claude-file-archiver-ENV-data` and `-service`) with the caller's AWS
 *   credentials;
 * - otherwise the local stack that `npm start` runs, read from its stack file
 *   (`--data-dir`, ARCHIVER_DATA_DIR, or `.archiver` in the current folder or the repository's).
 * What is typed on the command line beats what the shell's environment holds: `--stack prod` is
 * used even when ARCHIVER_LOOKUP_URL is exported; the two flags together are a usage error; of the
 * two variables, ARCHIVER_LOOKUP_URL (the narrower) wins.
 *
 * The upstream URL, where `backfill` and `enqueue <chatId>` send the organization's Compliance key,
 * comes from the stack itself (the service stack's UpstreamBaseUrl output, the local stack file),
 * never from ANTHROPIC_BASE_URL in the operator's shell; only `--upstream-url` overrides it.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DATA_STACK_OUTPUTS, SERVICE_STACK_OUTPUTS, stackNamesOf } from '../shared/contracts/stack-outputs.js';
import { isLoopbackHost, upstreamBaseUrlProblem } from '../shared/contracts/upstream-base-url.js';
import { readStackInfo, stackFilePath } from '../shared/platform/local-stack-file.js';
import type { StackInfo } from '../shared/platform/local-stack-file.js';
import { CliError, UsageError } from './exit-codes.js';

/** The AWS resources an operator command reads or writes. */
export interface StackResources {
  region: string;
  table: string;
  bucket: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  /** Local stack only: where its servers listen. */
  endpoints?: { s3: string; sqs: string; dynamodb: string } | undefined;
}

/** Where the upstream is and how to get its key, for the commands that list chats. */
export interface UpstreamAccess {
  baseUrl: string;
  apiKey(): Promise<string>;
}

export interface LookupAccess {
  url: string;
  /** Deployed: requests are SigV4-signed for execute-api in this region. Local: plain HTTP. */
  signWithRegion: string | undefined;
}

export interface StackTarget {
  kind: 'local' | 'deployed';
  /** Says which stack, for messages: "local stack (.archiver)", "deployed stack prod". */
  label: string;
  lookup(): Promise<LookupAccess>;
  resources(): Promise<StackResources>;
  upstream(): Promise<UpstreamAccess>;
}

export interface TargetOptions {
  stack?: string | undefined;
  region?: string | undefined;
  lookupUrl?: string | undefined;
  dataDir?: string | undefined;
  upstreamUrl?: string | undefined;
  /** Where --stack and --lookup-url came from: typed on the command line, or from the environment. */
  stackSource?: 'cli' | 'env' | undefined;
  lookupUrlSource?: 'cli' | 'env' | undefined;
}

/** A place to look for a local stack file; one found in the current folder is `trusted: false`. */
export interface DataDirCandidate {
  path: string;
  /**
   * Whether its stack file may name any URL. An untrusted one (a `.archiver/` that happens to be in
   * the folder the CLI runs in, say a cloned repository) is used only when every URL in it is
   * loopback: otherwise it could send the operator's ANTHROPIC_API_KEY, or the lookups, anywhere.
   */
  trusted: boolean;
}

/** What resolving needs from outside; tests and the local stack give their own. */
export interface TargetDeps {
  env: NodeJS.ProcessEnv;
  /** Reads a deployed stack's outputs (cloudformation-outputs.ts). */
  readOutputs(stackName: string, region: string | undefined): Promise<Record<string, string>>;
  /** Reads a secret's string (the upstream API key of a deployed stack). */
  readSecret(arn: string, region: string | undefined): Promise<string>;
  /** The local stack's sample upstream key, when that stack runs the built-in sample upstream. */
  sampleApiKey: string;
  /** Whether a process id is alive (the stack file of a stack that crashed stays behind). */
  isRunning(pid: number): boolean;
  /** Points the AWS SDK at the local servers' fixed credentials. */
  useLocalCredentials(): void;
  /**
   * Where to look for a local stack when neither --data-dir nor ARCHIVER_DATA_DIR says: the first with a stack file
   * wins.
   */
  defaultDataDirs: DataDirCandidate[];
}

const NAME_PREFIX = 'claude-file-archiver-';

/** Picks the stack the options name; nothing is fetched until a command asks for it. */
export function resolveTarget(opts: TargetOptions, deps: TargetDeps): StackTarget {
  const upstreamUrl = opts.upstreamUrl === undefined ? undefined : checkUpstreamUrl(opts.upstreamUrl);
  const stackFromCli = opts.stack !== undefined && opts.stackSource !== 'env';
  const lookupFromCli = opts.lookupUrl !== undefined && opts.lookupUrlSource !== 'env';
  if (stackFromCli && lookupFromCli) throw new UsageError('give either --stack or --lookup-url, not both');
  // A flag beats a variable: an explicit --stack is not overridden by an exported ARCHIVER_LOOKUP_URL.
  if (stackFromCli && opts.stack !== undefined) return deployedTarget(opts.stack, opts.region, upstreamUrl, deps);
  if (opts.lookupUrl !== undefined) return lookupOnlyTarget(opts.lookupUrl, opts.region);
  if (opts.stack !== undefined) return deployedTarget(opts.stack, opts.region, upstreamUrl, deps);
  const given = opts.dataDir ?? deps.env['ARCHIVER_DATA_DIR'];
  const candidates: DataDirCandidate[] =
    given !== undefined
      ? [{ path: resolve(given), trusted: true }]
      : deps.defaultDataDirs.map((d) => ({ path: resolve(d.path), trusted: d.trusted }));
  // The same folder reached two ways (the CLI run from the repository's root) is trusted.
  const found = candidates.find((d) => existsSync(stackFilePath(d.path)));
  const chosen = found
    ? { path: found.path, trusted: candidates.some((c) => c.trusted && c.path === found.path) }
    : undefined;
  if (!chosen) {
    const first = candidates[0]?.path ?? resolve('.archiver');
    throw new UsageError(
      `no local stack is running (${stackFilePath(first)} is missing) ` +
        `and no --stack was given: start one with "npm start", or name ` +
        `a deployed stack with --stack ENV`,
    );
  }
  return localTarget(chosen.path, chosen.trusted, upstreamUrl, deps);
}

/** `--upstream-url`: the same rule as every upstream URL (https, plain http only to loopback). */
function checkUpstreamUrl(url: string): string {
  const problem = upstreamBaseUrlProblem(url);
  if (problem !== undefined) throw new UsageError(`--upstream-url ${problem}`);
  return url;
}

/** Every URL a local stack file names; an untrusted one must have only loopback URLs. */
function urlsOf(stack: StackInfo): string[] {
  return [
    stack.lookupUrl,
    stack.upstream.url,
    stack.s3.endpoint,
    stack.dynamodb.endpoint,
    stack.sqs.endpoint,
    stack.sqs.queueUrl,
    stack.sqs.deadLetterQueueUrl,
    stack.webhook.url,
  ];
}

function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

function localTarget(
  dataDir: string,
  trusted: boolean,
  upstreamUrl: string | undefined,
  deps: TargetDeps,
): StackTarget {
  let info: Promise<StackInfo> | undefined;
  const read = (): Promise<StackInfo> =>
    (info ??= readStackInfo(dataDir).then(
      (stack) => {
        const remote = trusted ? undefined : urlsOf(stack).find((u) => !isLoopbackUrl(u));
        if (remote !== undefined)
          throw new CliError(
            `${stackFilePath(dataDir)} was found in the current folder and ` +
              `names a URL that is not on this machine (${new URL(remote).origin}): ` +
              `a local stack only listens on loopback; pass --data-dir ${dataDir} ` +
              `if you trust it`,
          );
        if (!deps.isRunning(stack.pid))
          throw new CliError(
            `the local stack in ${dataDir} (pid ${stack.pid}) is not running: start it with "npm start"`,
          );
        deps.useLocalCredentials();
        return stack;
      },
      (err: unknown) => {
        throw new CliError(
          `cannot read ${stackFilePath(dataDir)}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
        );
      },
    ));
  return {
    kind: 'local',
    label: `local stack (${dataDir})`,
    async lookup() {
      return { url: (await read()).lookupUrl, signWithRegion: undefined };
    },
    async resources() {
      const s = await read();
      return {
        region: s.region,
        table: s.dynamodb.table,
        bucket: s.s3.bucket,
        queueUrl: s.sqs.queueUrl,
        deadLetterQueueUrl: s.sqs.deadLetterQueueUrl,
        endpoints: { s3: s.s3.endpoint, sqs: s.sqs.endpoint, dynamodb: s.dynamodb.endpoint },
      };
    },
    async upstream() {
      const s = await read();
      // An --upstream-url away from the sample upstream gets the operator's key, not the sample's.
      const sample = s.upstream.sample && (upstreamUrl === undefined || upstreamUrl === s.upstream.url);
      const key = sample ? deps.sampleApiKey : deps.env['ANTHROPIC_API_KEY'];
      if (!key)
        throw new CliError('the local stack talks to a real upstream: set ANTHROPIC_API_KEY to the key it uses');
      return { baseUrl: upstreamUrl ?? s.upstream.url, apiKey: async () => key };
    },
  };
}

function deployedTarget(
  stack: string,
  region: string | undefined,
  upstreamUrl: string | undefined,
  deps: TargetDeps,
): StackTarget {
  const prefix = stack.startsWith(NAME_PREFIX) ? stack : `${NAME_PREFIX}${stack}`;
  if (!/^claude-file-archiver-[a-z0-9-]{1,12}$/.test(prefix)) {
    throw new UsageError(
      `--stack must be a deployment's environment name (1-12 lowercase letters, digits, hyphens), not "${stack}"`,
    );
  }
  const names = stackNamesOf(prefix.slice(NAME_PREFIX.length));
  const cache = new Map<string, Promise<Record<string, string>>>();
  const outputs = (part: 'data' | 'service'): Promise<Record<string, string>> => {
    let p = cache.get(part);
    if (!p) {
      p = deps.readOutputs(names[part], region);
      cache.set(part, p);
    }
    return p;
  };
  const need = (o: Record<string, string>, key: string, part: string): string => {
    const v = o[key];
    if (!v) throw new CliError(`stack ${prefix}-${part} has no output ${key}: is it deployed from this version?`);
    return v;
  };
  const deployedUpstreamUrl = async (): Promise<string> => {
    const url = (await outputs('service'))[SERVICE_STACK_OUTPUTS.upstreamBaseUrl];
    if (!url)
      throw new CliError(
        `stack ${names.service} has no output ${SERVICE_STACK_OUTPUTS.upstreamBaseUrl} ` +
          `(deployed from an older version): redeploy it, or give --upstream-url`,
      );
    const problem = upstreamBaseUrlProblem(url);
    if (problem !== undefined)
      throw new CliError(`stack ${names.service}'s ${SERVICE_STACK_OUTPUTS.upstreamBaseUrl} output ${problem}`);
    return url;
  };
  return {
    kind: 'deployed',
    label: `deployed stack ${prefix}`,
    async lookup() {
      const url = need(await outputs('service'), SERVICE_STACK_OUTPUTS.lookupUrl, 'service');
      return {
        url,
        signWithRegion: region ?? regionOfApiUrl(url) ?? deps.env['AWS_REGION'] ?? deps.env['AWS_DEFAULT_REGION'],
      };
    },
    async resources() {
      const o = await outputs('data');
      const queueUrl = need(o, DATA_STACK_OUTPUTS.queueUrl, 'data');
      return {
        region: region ?? regionOfQueueUrl(queueUrl) ?? deps.env['AWS_REGION'] ?? 'us-east-1',
        table: need(o, DATA_STACK_OUTPUTS.table, 'data'),
        bucket: need(o, DATA_STACK_OUTPUTS.bucket, 'data'),
        queueUrl,
        deadLetterQueueUrl: need(o, DATA_STACK_OUTPUTS.deadLetterQueueUrl, 'data'),
      };
    },
    async upstream() {
      // The stack's own upstream, as its functions use it; ANTHROPIC_BASE_URL in the operator's
      // shell (set for some other tool, or planted) must never receive the organization's key.
      const baseUrl = upstreamUrl ?? (await deployedUpstreamUrl());
      const fromEnv = deps.env['ANTHROPIC_API_KEY'];
      if (fromEnv) return { baseUrl, apiKey: async () => fromEnv };
      const arn = need(await outputs('data'), DATA_STACK_OUTPUTS.upstreamApiKeySecretArn, 'data');
      let key: Promise<string> | undefined;
      return { baseUrl, apiKey: () => (key ??= deps.readSecret(arn, region)) };
    },
  };
}

function lookupOnlyTarget(url: string, region: string | undefined): StackTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--lookup-url must be a URL, not "${url}"`);
  }
  const loopback = isLoopbackHost(parsed.hostname);
  if (!loopback && parsed.protocol !== 'https:')
    throw new UsageError('--lookup-url must use https (only a local stack is served over http)');
  const signWithRegion = loopback ? undefined : (region ?? regionOfApiUrl(url));
  if (!loopback && !signWithRegion) throw new UsageError('give --region: it cannot be read from this --lookup-url');
  const only = (what: string) => async (): Promise<never> => {
    throw new UsageError(
      `this command needs the stack's ${what}: name the stack with --stack ENV instead of --lookup-url`,
    );
  };
  return {
    kind: loopback ? 'local' : 'deployed',
    label: `lookup API ${parsed.origin}`,
    lookup: async () => ({ url, signWithRegion }),
    resources: only('queues and table'),
    upstream: only('upstream key'),
  };
}

/** `https://abc123.execute-api.eu-west-1.amazonaws.com/v1/` → `eu-west-1`. */
export function regionOfApiUrl(url: string): string | undefined {
  try {
    return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(new URL(url).hostname)?.[1];
  } catch {
    return undefined;
  }
}

/** `https://sqs.eu-west-1.amazonaws.com/123/q` → `eu-west-1`. */
function regionOfQueueUrl(url: string): string | undefined {
  try {
    return /^sqs\.([a-z0-9-]+)\.amazonaws\.com$/.exec(new URL(url).hostname)?.[1];
  } catch {
    return undefined;
  }
}
