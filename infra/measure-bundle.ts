// Over 400 lines: one command-line script (its options, the bundles found, the timed imports, the
// tables, the checks of what is bundled); the Secrets Manager stub is in measure-secrets-stub.ts, the
// tables could follow it out.
/**
 * Measures the Lambda bundles exactly as `cdk synth` built them (cdk.out), not a re-bundle: the
 * size of every function's index.mjs (exact) and, for ingest and lookup (every function with
 * `--all`), the size of its source map, the approximate zip size, and the module initialisation
 * time of a cold `import` of the bundle in a fresh Node process. With `--baseline` it measures a
 * second cloud assembly (say, main's, synthesized in another worktree) in the same run, alternating
 * the two import for import so the machine's load falls on both alike, and prints each figure next
 * to the baseline's with their ratio.
 *
 *   npm run measure:bundle                                     # synth, then measure (10 cold imports per function)
 *   npx tsx infra/measure-bundle.ts [cdk.out] [--runs 10] [--baseline ../main/cdk.out] [--plain-http-secrets] [--cpu]
 *   npx tsx infra/measure-bundle.ts --runs 1 --cpu-prof /tmp/profiles   # a V8 CPU profile per cold import
 *   npx tsx infra/measure-bundle.ts --all                                # time every function
 *
 * `--cpu-prof DIR` has every cold import write a V8 CPU profile into DIR (Node's `--cpu-prof`), named
 * by function and tree, with the environment the import runs in here; open it in Chrome's DevTools or
 * summarise it by source file with infra/profile-by-source.ts.
 *
 * `--cpu` reports the CPU time the import used (user + system, all threads of the process) instead of
 * its wall time: on a machine shared with other work, wall time mostly measures the wait for a core,
 * CPU time much less so.
 *
 * Each bundle's source map lists the modules bundled into it: a function whose bundle holds classic
 * zod (node_modules/zod/v4/classic, the schema builders of `import 'zod'`) fails the run too. Every
 * schema a Lambda bundles is written with zod/mini (shared/contracts/zod.ts); one classic import
 * anywhere on a handler's path would bring classic zod's schema construction back to the cold start.
 * So does one that holds the Secrets Manager client or Powertools' parameters (the functions read
 * their secrets with shared/platform/secrets-manager-reader.ts).
 *
 * The sizes are checked against the budgets below (exit code 1 when one is over); timings are
 * printed, never asserted: on a shared machine they are noisy, read their ratios.
 *
 * A cold import runs everything a Lambda cold start runs in the handler module: configuration
 * validation, client construction and, for ingest, the upstream key read from Secrets Manager
 * (answered here by a loopback stub, which the functions reach through AWS_ENDPOINT_URL_SECRETS_MANAGER,
 * so the figure excludes the real network round trip). It does
 * not include the Lambda runtime's own start-up or the download of the code.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { DISCOVERY_SERVICE_NAMES, SERVICE_NAMES } from '../shared/contracts/metric-names.js';
import { loopbackCertificate, startSecretsStub } from './measure-secrets-stub.js';

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string' },
    baseline: { type: 'string' },
    'plain-http-secrets': { type: 'boolean' },
    cpu: { type: 'boolean' },
    'cpu-prof': { type: 'string' },
    all: { type: 'boolean' },
  },
});
const outDir = resolve(positionals[0] ?? 'cdk.out');
// The second positional is the older spelling of --runs.
const runs = Number(options.runs ?? positionals[1] ?? 10);
const baselineDir = options.baseline === undefined ? undefined : resolve(options.baseline);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${runs}`);
const profileDir = options['cpu-prof'] === undefined ? undefined : resolve(options['cpu-prof']);

/** Node's options that make a cold import write its CPU profile, one file per function, tree and run. */
function profileOptions(dir: string, service: string, tree: string, run: number): string[] {
  const name = `${service}-${tree.replaceAll(' ', '-')}-${run + 1}.cpuprofile`;
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`];
}

const KiB = 1024;
/**
 * Upper bounds of index.mjs per function (issue 17): every function within 1 MiB, ingest and lookup
 * (the two on a latency-sensitive path: a queue's backlog, an auditor's request) well below.
 */
export const BUNDLE_BUDGET_BYTES: Record<string, number> = {
  [SERVICE_NAMES.ingest]: 900 * KiB,
  [SERVICE_NAMES.lookup]: 600 * KiB,
};
const DEFAULT_BUDGET_BYTES = 1024 * KiB;

/** The order the tables list functions in; a function not named here follows, by name. */
const LISTED_FIRST: readonly string[] = [
  SERVICE_NAMES.ingest,
  SERVICE_NAMES.lookup,
  SERVICE_NAMES.webhook,
  SERVICE_NAMES.export,
  ...Object.values(DISCOVERY_SERVICE_NAMES),
];
const listingOrder = (a: string, b: string) => {
  const rank = (s: string) => (LISTED_FIRST.includes(s) ? LISTED_FIRST.indexOf(s) : LISTED_FIRST.length);
  return rank(a) - rank(b) || a.localeCompare(b);
};
/** The functions whose cold import is timed by default (`--all`: every function). */
const TIMED_SERVICES = [SERVICE_NAMES.ingest, SERVICE_NAMES.lookup];

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

/** A function as synthesized: its bundle directory and the environment its template gives it. */
interface Bundle {
  readonly dir: string;
  readonly variables: Record<string, unknown>;
}

/** Finds each function's bundle directory in the cloud assembly by its Powertools service name. */
function findBundles(outDir: string): Map<string, Bundle> {
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')));
  const bundles = new Map<string, Bundle>();
  for (const artifact of Object.values(manifest.artifacts)) {
    const templateFile = artifact.properties?.templateFile;
    if (artifact.type !== 'aws:cloudformation:stack' || !templateFile) continue;
    const template = TemplateSchema.parse(JSON.parse(readFileSync(join(outDir, templateFile), 'utf8')));
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const variables = resource.Properties?.Environment?.Variables ?? {};
      const service = variables['POWERTOOLS_SERVICE_NAME'];
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (typeof service === 'string' && typeof assetPath === 'string')
        bundles.set(service, { dir: join(outDir, assetPath), variables });
    }
  }
  return bundles;
}

/**
 * A stand-in for a value the template leaves to CloudFormation (a `Ref`, an `Fn::GetAtt`): shaped
 * like what the function's configuration schema expects of that variable, by its name.
 */
function placeholderFor(name: string): string {
  if (name.endsWith('_QUEUE_URL')) return `https://sqs.us-east-1.amazonaws.com/000000000000/${name.toLowerCase()}`;
  if (name.endsWith('_SECRET_ARN')) return 'arn:aws:secretsmanager:us-east-1:000000000000:secret:measurement-abcdef';
  if (name.endsWith('_ARN')) return `arn:aws:sns:us-east-1:000000000000:${name.toLowerCase()}`;
  return `measurement-${name.toLowerCase().replaceAll('_', '-')}`;
}

/**
 * The environment of one cold import: the variables the synthesized template gives the function
 * (so a setting added to a function is measured without touching this script), CloudFormation's
 * references replaced by placeholders, and the Lambda runtime's own variables. A function that reads
 * a secret at start-up is pointed at the loopback stub.
 */
function environmentFor(bundle: Bundle, secretsEndpoint: string, caFile: string | undefined): NodeJS.ProcessEnv {
  const fromTemplate = Object.fromEntries(
    Object.entries(bundle.variables)
      // The template's NODE_OPTIONS (--enable-source-maps) is left out: each column sets that flag
      // itself, and from the environment it would be on in both.
      .filter(([name]) => name !== 'NODE_OPTIONS')
      .map(([name, value]) => [name, typeof value === 'string' ? value : placeholderFor(name)]),
  );
  const readsSecret = Object.keys(fromTemplate).some((name) => name.endsWith('_SECRET_ARN'));
  return {
    ...fromTemplate,
    // The stub's certificate is trusted as an extra CA, as Lambda trusts the real endpoint's.
    ...(caFile ? { NODE_EXTRA_CA_CERTS: caFile } : {}),
    ...(readsSecret ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint } : {}),
    PATH: process.env['PATH'],
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'measurement',
    AWS_SECRET_ACCESS_KEY: 'measurement',
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
}

// process.argv[1] is the module timed; process.argv[2], when given, is imported first, untimed (the
// handler's bundle, before one of its modules loaded on first use).
const CHILD = `
if (process.argv[2]) await import(process.argv[2]);
const c0 = process.cpuUsage();
const t0 = performance.now();
await import(process.argv[1]);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(c0);
process.stdout.write(String(measureCpu ? (cpu.user + cpu.system) / 1000 : wall));
`;

/** One cold import in a fresh process (after `loadedFirst`, untimed); returns milliseconds spent in `import()`. */
function coldImport(
  file: string,
  env: NodeJS.ProcessEnv,
  nodeOptions: string[],
  loadedFirst?: string,
): Promise<number> {
  return new Promise((ok, fail) => {
    const child = spawn(
      process.execPath,
      [
        ...nodeOptions,
        '--input-type=module',
        '-e',
        `const measureCpu = ${options.cpu === true};${CHILD}`,
        pathToFileURL(file).href,
        ...(loadedFirst ? [pathToFileURL(loadedFirst).href] : []),
      ],
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

const kb = (bytes: number) => `${(bytes / KiB).toFixed(0)} KiB`;
const ms = (xs: number[]) =>
  `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
const ratio = (after: number, before: number) => `×${(after / before).toFixed(2)}`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

interface Tree {
  readonly label: string;
  readonly bundles: Map<string, Bundle>;
}

interface Timings {
  plain: number[];
  withMaps: number[];
}

/**
 * The modules of classic zod bundled into the function, read from the `sources` of its source maps
 * (index.mjs's and any module's loaded on first use, such as the lookup's rare-routes.mjs).
 */
function classicZodModules(dir: string): string[] {
  return bundledSources(dir).filter((source) => /(^|\/)node_modules\/zod\/v4\/classic\//.test(source));
}

/**
 * The modules of the Secrets Manager client or Powertools' parameters bundled into the function: the
 * functions read their secrets with shared/platform/secrets-manager-reader.ts, and either package
 * back on a handler's path would bring its load and initialisation back to the cold start.
 */
function secretsClientModules(dir: string): string[] {
  const pattern = /(^|\/)node_modules\/(@aws-sdk\/client-secrets-manager|@aws-lambda-powertools\/parameters)\//;
  return bundledSources(dir).filter((source) => pattern.test(source));
}

function bundledSources(dir: string): string[] {
  const MapSchema = z.object({ sources: z.array(z.string()) });
  return readdirSync(dir)
    .filter((file) => file.endsWith('.mjs.map'))
    .flatMap((file) => MapSchema.parse(JSON.parse(readFileSync(join(dir, file), 'utf8'))).sources);
}

/**
 * index.mjs and its map; the zip estimate counts every file of the asset, a module loaded on first
 * use (infra/constructs/archiver-function.ts, bundlingWithLazyModules) included.
 */
function bundleSizes(dir: string): { code: number; map: number; zipped: number } {
  const code = readFileSync(join(dir, 'index.mjs'));
  const map = readFileSync(join(dir, 'index.mjs.map'));
  const zipped = readdirSync(dir)
    .map((file) => deflateRawSync(readFileSync(join(dir, file)), { level: 9 }).length)
    .reduce((a, b) => a + b, 0);
  return { code: code.length, map: map.length, zipped };
}

function classicCell(modules: number): string {
  return modules === 0 ? 'none' : `**${modules} modules**`;
}

/**
 * The modules a timed function loads on first use (files beside index.mjs, such as the lookup's
 * rare-routes.mjs: infra/constructs/archiver-function.ts, bundlingWithLazyModules): what the first
 * request that needs one adds, each import timed after index.mjs in a fresh process.
 */
async function measureFirstUse(trees: Tree[], secretsEndpoint: string, caFile: string | undefined): Promise<void> {
  const rows: string[] = [];
  for (const service of TIMED_SERVICES) {
    for (const tree of trees) {
      const bundle = tree.bundles.get(service);
      if (!bundle) continue;
      const env = environmentFor(bundle, secretsEndpoint, caFile);
      const index = join(bundle.dir, 'index.mjs');
      for (const file of readdirSync(bundle.dir).filter((f) => f.endsWith('.mjs') && f !== 'index.mjs')) {
        const times: number[] = [];
        for (let i = 0; i < runs; i++) times.push(await coldImport(join(bundle.dir, file), env, [], index));
        rows.push(
          `| ${service} | ${tree.label} | ${file} | ${kb(statSync(join(bundle.dir, file)).size)} | ${ms(times)} |`,
        );
      }
    }
  }
  if (rows.length === 0) return;
  console.log('\n| function | tree | loaded on first use | size | import after index.mjs, median (min-max) |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

async function main(): Promise<void> {
  const trees: Tree[] = [];
  if (baselineDir) trees.push({ label: 'baseline', bundles: findBundles(baselineDir) });
  const measured: Tree = { label: baselineDir ? 'this tree' : 'bundle', bundles: findBundles(outDir) };
  trees.push(measured);
  for (const tree of trees) {
    if (tree.bundles.size === 0)
      throw new Error(`no bundled functions found for ${tree.label}; run \`npm run synth\` first`);
  }
  const certificate = options['plain-http-secrets'] ? undefined : loopbackCertificate();
  const { server: stub, endpoint } = await startSecretsStub(certificate);
  const address = stub.address();
  if (address === null || typeof address === 'string') throw new Error('the Secrets Manager stub has no TCP address');
  const { port } = address;
  try {
    console.log(
      `node ${process.version}, ${runs} cold imports per function, ` +
        `tree and setting (Lambda runs nodejs24.x), ${options.cpu ? 'CPU time' : 'wall time'} ` +
        `of each import; load average ${load()}`,
    );
    console.log(
      certificate
        ? 'the Secrets Manager stub answers over TLS, as the real endpoint does'
        : 'the Secrets Manager stub answers over plain HTTP (openssl missing, ' +
            'or --plain-http-secrets): the ingest import also loads node:http ' +
            'as an ES module, which Lambda does not',
    );
    if (baselineDir) console.log(`baseline: ${baselineDir}\nthis tree: ${outDir}`);

    const baselineColumns = baselineDir ? ' baseline index.mjs | ratio | baseline classic zod |' : '';
    console.log(`\n| function | index.mjs | budget | classic zod |${baselineColumns}`);
    console.log(`| --- | --- | --- | --- |${baselineDir ? ' --- | --- | --- |' : ''}`);
    const overBudget: string[] = [];
    const withClassicZod: string[] = [];
    const withSecretsClient: string[] = [];
    for (const service of [...measured.bundles.keys()].sort(listingOrder)) {
      const dir = measured.bundles.get(service)?.dir;
      if (!dir) continue;
      const size = statSync(join(dir, 'index.mjs')).size;
      const budget = BUNDLE_BUDGET_BYTES[service] ?? DEFAULT_BUDGET_BYTES;
      if (size > budget) overBudget.push(`${service}: ${kb(size)} > ${kb(budget)}`);
      const classic = classicZodModules(dir).length;
      if (classic > 0) withClassicZod.push(`${service} (${classic} modules)`);
      const secretsClient = secretsClientModules(dir).length;
      if (secretsClient > 0) withSecretsClient.push(`${service} (${secretsClient} modules)`);
      const withinBudget = `${size <= budget ? '≤' : '**over**'} ${kb(budget)}`;
      let row = `| ${service} | ${kb(size)} | ${withinBudget} | ${classicCell(classic)} |`;
      const baseDir = trees[0] !== measured ? trees[0]?.bundles.get(service)?.dir : undefined;
      if (baseDir) {
        const baseSize = statSync(join(baseDir, 'index.mjs')).size;
        row += ` ${kb(baseSize)} | ${ratio(size, baseSize)} | ${classicCell(classicZodModules(baseDir).length)} |`;
      }
      console.log(row);
    }

    console.log(
      '\n| function | tree | index.mjs | source map | zip (≈) | cold ' +
        'import, median (min-max) | same with --enable-source-maps (as ' +
        'deployed) |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    const timed = options.all ? [...measured.bundles.keys()].sort(listingOrder) : TIMED_SERVICES;
    for (const service of timed) {
      const present = trees.filter((t) => t.bundles.has(service));
      const timings = new Map<Tree, Timings>(present.map((t) => [t, { plain: [], withMaps: [] }]));
      // Alternate trees and settings so machine noise spreads evenly over all of them.
      for (let i = 0; i < runs; i++) {
        for (const withMaps of [false, true]) {
          for (const tree of present) {
            const bundle = tree.bundles.get(service);
            if (!bundle) continue;
            const env = environmentFor(bundle, endpoint(port), certificate?.certFile);
            const file = join(bundle.dir, 'index.mjs');
            const t = timings.get(tree);
            const profile = profileDir && !withMaps ? profileOptions(profileDir, service, tree.label, i) : [];
            const took = await coldImport(file, env, withMaps ? ['--enable-source-maps'] : profile);
            (withMaps ? t?.withMaps : t?.plain)?.push(took);
          }
        }
      }
      for (const tree of present) {
        const sizes = bundleSizes(tree.bundles.get(service)?.dir ?? '');
        const t = timings.get(tree) ?? { plain: [], withMaps: [] };
        console.log(
          `| ${service} | ${tree.label} | ${kb(sizes.code)} | ${kb(sizes.map)} ` +
            `| ${kb(sizes.zipped)} | ${ms(t.plain)} | ${ms(t.withMaps)} |`,
        );
      }
      const base = present[0];
      const after = present[1];
      if (base && after) {
        const b = timings.get(base);
        const a = timings.get(after);
        if (a && b) {
          console.log(
            `| ${service} | ratio of medians | | | | ${ratio(median(a.plain), median(b.plain))} ` +
              `| ${ratio(median(a.withMaps), median(b.withMaps))} |`,
          );
          // Each run imports both trees back to back, so a burst of load hits a pair alike: the
          // median of the per-run ratios is steadier than the ratio of the medians.
          const paired = (xs: number[], ys: number[]) => `×${median(xs.map((x, i) => x / (ys[i] ?? x))).toFixed(2)}`;
          console.log(
            `| ${service} | median of paired ratios | | | | ${paired(a.plain, b.plain)} ` +
              `| ${paired(a.withMaps, b.withMaps)} |`,
          );
        }
      }
    }
    await measureFirstUse(trees, endpoint(port), certificate?.certFile);
    console.log(`\nload average at the end: ${load()}`);
    if (profileDir) console.log(`CPU profiles of the imports without source maps: ${profileDir}`);
    if (overBudget.length > 0) {
      console.error(`\nover budget: ${overBudget.join('; ')}`);
      process.exitCode = 1;
    }
    if (withSecretsClient.length > 0) {
      console.error(
        `\nthe Secrets Manager client or Powertools parameters bundled (read secrets with ` +
          `shared/platform/secrets-manager-reader.ts): ${withSecretsClient.join('; ')}`,
      );
      process.exitCode = 1;
    }
    if (withClassicZod.length > 0) {
      console.error(`\nclassic zod bundled (import zod through shared/contracts/zod.ts): ${withClassicZod.join('; ')}`);
      process.exitCode = 1;
    }
  } finally {
    stub.close();
    certificate?.cleanup();
  }
}

await main();
