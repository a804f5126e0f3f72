/**
 * Measures the Lambda bundles exactly as `cdk synth` built them (cdk.out), not a re-bundle:
 * size of index.mjs and its source map, the approximate zip size, and the module initialisation
 * time of a cold `import` of the bundle in a fresh Node process.
 *
 *   npm run measure:bundle            # synth, then measure (10 cold imports per function)
 *   npx tsx infra/measure-bundle.ts [cdk.out] [runs]
 *
 * A cold import runs everything a Lambda cold start runs in the handler module: configuration
 * validation, client construction and, for ingest, the upstream key read from Secrets Manager
 * (answered here by a loopback stub, so the figure excludes the real network round trip). It does
 * not include the Lambda runtime's own start-up or the download of the code.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { SERVICE_NAMES } from '../shared/contracts/metric-names.js';

const outDir = resolve(process.argv[2] ?? 'cdk.out');
const runs = Number(process.argv[3] ?? 10);

const ManifestSchema = z.object({
  artifacts: z.record(
    z.string(),
    z.object({ type: z.string(), properties: z.object({ templateFile: z.string() }).partial().optional() }),
  ),
});
const TemplateSchema = z.object({
  Resources: z.record(
    z.string(),
    z.object({
      Type: z.string(),
      Metadata: z.record(z.string(), z.unknown()).optional(),
      Properties: z
        .object({ Environment: z.object({ Variables: z.record(z.string(), z.unknown()) }).optional() })
        .passthrough()
        .optional(),
    }),
  ),
});

/** Finds each function's bundle directory in the cloud assembly by its Powertools service name. */
function findBundles(): Map<string, string> {
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')));
  const bundles = new Map<string, string>();
  for (const artifact of Object.values(manifest.artifacts)) {
    const templateFile = artifact.properties?.templateFile;
    if (artifact.type !== 'aws:cloudformation:stack' || !templateFile) continue;
    const template = TemplateSchema.parse(JSON.parse(readFileSync(join(outDir, templateFile), 'utf8')));
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const service = resource.Properties?.Environment?.Variables['POWERTOOLS_SERVICE_NAME'];
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (typeof service === 'string' && typeof assetPath === 'string') bundles.set(service, join(outDir, assetPath));
    }
  }
  return bundles;
}

/** A Secrets Manager stand-in answering GetSecretValue, so the ingest module's cold start completes. */
async function startSecretsStub(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:upstream-key-abcdef',
          Name: 'upstream-key',
          SecretString: 'sk-ant-measurement-placeholder',
          VersionId: '00000000-0000-0000-0000-000000000000',
        }),
      );
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}

function environmentFor(service: string, secretsEndpoint: string): NodeJS.ProcessEnv {
  const common = {
    PATH: process.env['PATH'],
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'measurement',
    AWS_SECRET_ACCESS_KEY: 'measurement',
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_SERVICE_NAME: service,
    POWERTOOLS_METRICS_NAMESPACE: 'ClaudeFileArchiver',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    ARCHIVE_BUCKET: 'measurement-bucket',
    INDEX_TABLE: 'measurement-table',
  };
  if (service === SERVICE_NAMES.ingest) {
    return {
      ...common,
      INGEST_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/ingest',
      DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/ingest-dlq',
      ANTHROPIC_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:upstream-key-abcdef',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint,
      LEASE_SECONDS: '960',
      MAX_RECEIVE_COUNT: '5',
    };
  }
  return { ...common, PRESIGN_TTL_SECONDS: '300' };
}

const CHILD = `
const t0 = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - t0));
`;

/** One cold import in a fresh process; returns milliseconds spent in `import()`. */
function coldImport(file: string, env: NodeJS.ProcessEnv, nodeOptions: string[]): Promise<number> {
  return new Promise((ok, fail) => {
    const child = spawn(
      process.execPath,
      [...nodeOptions, '--input-type=module', '-e', CHILD, pathToFileURL(file).href],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const ms = Number(out);
      if (code === 0 && Number.isFinite(ms)) ok(ms);
      else fail(new Error(`cold import of ${file} failed (exit ${code}): ${err.slice(0, 2000)}`));
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

async function main(): Promise<void> {
  const bundles = findBundles();
  if (bundles.size === 0) throw new Error(`no bundled functions found in ${outDir}; run \`npm run synth\` first`);
  const stub = await startSecretsStub();
  const address = stub.address();
  if (address === null || typeof address === 'string') throw new Error('the Secrets Manager stub has no TCP address');
  const { port } = address;
  try {
    console.log(`node ${process.version}, ${runs} cold imports per function and setting (Lambda runs nodejs24.x)\n`);
    console.log(
      '| function | index.mjs | source map | zip (≈) | cold import, median (min-max) | same with --enable-source-maps |',
    );
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const service of [SERVICE_NAMES.ingest, SERVICE_NAMES.lookup]) {
      const dir = bundles.get(service);
      if (!dir) continue;
      const file = join(dir, 'index.mjs');
      const map = join(dir, 'index.mjs.map');
      const code = readFileSync(file);
      const zipped = deflateRawSync(code, { level: 9 }).length + deflateRawSync(readFileSync(map), { level: 9 }).length;
      const env = environmentFor(service, `http://127.0.0.1:${port}`);
      const plain: number[] = [];
      const withMaps: number[] = [];
      // Alternate the two settings so machine noise spreads evenly over both.
      for (let i = 0; i < runs; i++) {
        plain.push(await coldImport(file, env, []));
        withMaps.push(await coldImport(file, env, ['--enable-source-maps']));
      }
      const fmt = (xs: number[]) =>
        `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
      console.log(
        `| ${service} | ${kb(code.length)} | ${kb(statSync(map).size)} | ${kb(zipped)} | ${fmt(plain)} | ${fmt(withMaps)} |`,
      );
    }
  } finally {
    stub.close();
  }
}

await main();
