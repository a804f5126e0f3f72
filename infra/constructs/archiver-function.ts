import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../shared/contracts/metric-names.js';

/**
 * ESM bundles lose `require`; a CommonJS dependency that calls it (several in the AWS SDK's and
 * Powertools' trees do) would throw "Dynamic require of … is not supported" at cold start.
 */
const CREATE_REQUIRE_BANNER =
  "import { createRequire as __archiverCreateRequire } from 'node:module'; " +
  'const require = __archiverCreateRequire(import.meta.url);';

/** The module that stands in for the SDK's node credential chain in every Lambda bundle. */
export const LAMBDA_CREDENTIAL_PROVIDER = 'shared/platform/lambda-credential-provider.ts';

/** esbuild options shared by every function; exported so the bundle measurement uses the same ones. */
export const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: 'node24',
  minify: true,
  sourceMap: true,
  // The map points at the files instead of embedding them: a smaller artifact, same stack traces.
  sourcesContent: false,
  // Prefer packages' ESM builds so esbuild can tree-shake them.
  mainFields: ['module', 'main'],
  banner: CREATE_REQUIRE_BANNER,
  // Bundle the SDK clients pinned in package.json rather than use whatever version the runtime has.
  bundleAwsSDK: true,
  externalModules: [],
  // In Lambda the credentials are in the environment: the SDK's node credential chain is replaced
  // by its environment provider alone (why, and the AWS documentation: that module's comment).
  // Relative to the project root, esbuild's working directory.
  esbuildArgs: { '--alias': [`@aws-sdk/credential-provider-node=./${LAMBDA_CREDENTIAL_PROVIDER}`] },
};

/**
 * Bundling with modules of their own beside index.mjs (`file` name in the asset -> entry, relative
 * to the project root), each built after the main bundle by the same esbuild with the same options.
 * The handler loads such a module with `import()` of a computed specifier, which esbuild leaves to
 * run time, so its code is neither evaluated nor even parsed at a cold start. (One file cannot do
 * that: esbuild wraps a dynamically imported module in the same bundle, and everything it imports,
 * in a function whose code Node still parses at every cold start; docs/benchmark.md.)
 */
export function bundlingWithLazyModules(lazyModules: Readonly<Record<string, string>>): nodejs.BundlingOptions {
  return {
    ...BUNDLING,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir, outputDir) =>
        Object.entries(lazyModules).map(([file, entry]) =>
          [
            `${inputDir}/node_modules/.bin/esbuild`,
            '--bundle',
            `${inputDir}/${entry}`,
            ...lazyModuleArgs(`${outputDir}/${file}`),
          ]
            .map(shellQuote)
            .join(' '),
        ),
    },
  };
}

/** The esbuild options BUNDLING gives the main bundle, as command-line arguments, writing `outfile`. */
export function lazyModuleArgs(outfile: string): string[] {
  const alias = BUNDLING.esbuildArgs?.['--alias'];
  return [
    `--target=${BUNDLING.target}`,
    '--platform=node',
    `--format=${BUNDLING.format}`,
    `--outfile=${outfile}`,
    ...(BUNDLING.minify ? ['--minify'] : []),
    ...(BUNDLING.sourceMap ? ['--sourcemap'] : []),
    ...(BUNDLING.sourcesContent === false ? ['--sources-content=false'] : []),
    ...(BUNDLING.banner ? [`--banner:js=${BUNDLING.banner}`] : []),
    ...(BUNDLING.mainFields ? [`--main-fields=${BUNDLING.mainFields.join(',')}`] : []),
    ...(Array.isArray(alias) ? alias.map((a) => `--alias:${a}`) : []),
  ];
}

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export interface ArchiverFunctionProps {
  /** TypeScript entry point exporting `handler`. */
  readonly entry: string;
  /** Project root holding package-lock.json (the bundling root). */
  readonly projectRoot: string;
  readonly description: string;
  /** POWERTOOLS_SERVICE_NAME; also the `service` dimension of every metric the function emits. */
  readonly serviceName: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly logRetention: logs.RetentionDays;
  /** Modules bundled into files of their own, loaded on first use (see bundlingWithLazyModules). */
  readonly lazyModules?: Readonly<Record<string, string>>;
  /** V8 flags added to NODE_OPTIONS (the export's heap sizes: infra/sizing.ts exportV8Flags). */
  readonly v8Flags?: readonly string[];
}

/**
 * A Lambda function with the project's defaults: nodejs24.x on arm64 (cheaper per GB-second than
 * x86 for the same work), an ESM bundle built by the local esbuild, X-Ray tracing, a log group with
 * a retention, the Powertools environment, and a role holding nothing but write access to its own
 * log group. Everything else a function may touch is added with `bind`, which sets the environment
 * variable naming the resource and grants access to it in one step, so the code can never be told
 * about a resource it may not use, nor be given access to one it is not told about.
 *
 * `Env` is the set of environment variable names the function's configuration schema accepts, so
 * a misspelt name is a compile error.
 */
export class ArchiverFunction<Env extends string> extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ArchiverFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      // Logs may be evidence in an investigation; a stateless redeploy must not delete them.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // An explicit role instead of AWSLambdaBasicExecutionRole, whose log permissions cover every log
    // group in the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.serviceName}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      bundling: props.lazyModules ? bundlingWithLazyModules(props.lazyModules) : BUNDLING,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        // Stack traces point at the TypeScript sources.
        NODE_OPTIONS: ['--enable-source-maps', ...(props.v8Flags ?? [])].join(' '),
      },
    });

    // Tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which have no resource-level
    // permissions: IAM only accepts "*" for them. (The policy exists: the log grant created it.)
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the X-Ray actions added by active tracing (xray:PutTraceSegments, ' +
        'xray:PutTelemetryRecords) use Resource "*"; X-Ray supports no ' +
        'resource-level permissions. Asserted by the least-privilege ' +
        'template tests.',
    });
  }

  /** Sets a configuration value that names no AWS resource (a URL, a number). */
  setEnv(name: Env, value: string): this {
    this.function.addEnvironment(name, value);
    return this;
  }

  /**
   * Names a resource in the function's environment and applies the grant that makes it usable;
   * `grant` receives the function's role.
   */
  bind(name: Env, value: string, grant: (grantee: iam.IGrantable) => unknown): this {
    this.function.addEnvironment(name, value);
    grant(this.role);
    return this;
  }
}
