/**
 * `npm run bench`: throughput and memory of the ingest path on local servers, beside a raw copy of the
 * same bytes. See docs/benchmark.md for what is measured and how to read it.
 *
 * This process starts the servers (DynamoDB and SQS in process, S3 in process for fauxqs or as a
 * child process for s3rver) and the local upstream, which generates each file's bytes on the fly.
 * Each measured transfer runs in a fresh worker process (bench/transfer-worker.ts) so that its memory
 * figures are the archiver's alone; rclone, when installed, runs as its own process too.
 *
 *   npm run bench -- [--sizes 10,100,1000] [--s3 s3rver|fauxqs] [--part-size-mib 8] [--concurrency 4]
 *                    [--skip-rclone] [--skip-sdk-baseline] [--out FILE]
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { ensureBucket, ensureQueues, ensureTable, startLocalAws } from '../local/aws-servers.js';
import type { LocalAws, LocalS3Server } from '../local/aws-servers.js';
import { startUpstreamServer } from '../local/upstream-server.js';
import type { ContentDigest, UpstreamServer } from '../local/upstream-server.js';
import { choosePartSize } from '../shared/archive/verified-writer.js';
import { createDocumentClient, createS3Client, createSqsClient } from '../shared/platform/aws-clients.js';
import { DynamoDbFileIndex } from '../shared/index/dynamodb-file-index.js';
import { ANTHROPIC_VERSION, metadataPath } from '../shared/upstream/upstream-client.js';
import { findChildPid, readCpuSeconds, sampleProcess } from './memory.js';
import { WorkerMarkSchema, WorkerResultSchema } from './protocol.js';
import type { WorkerMode, WorkerTask } from './protocol.js';

/** Every figure uses decimal units: 1 MB = 10^6 bytes (sizes, throughput and memory alike). */
const MB = 1_000_000;
const MIB = 1024 * 1024;
const API_KEY = 'sk-ant-api01-local-bench-key';
const BUCKET = 'archiver-bench';
const TABLE = 'archiver-bench-index';
const QUEUE = 'archiver-bench-ingest';
const WARM_UP_BYTES = 20 * MB;
const SAMPLE_INTERVAL_MS = 20;
/** fauxqs answers 413 to any request body over 11 MiB. */
const FAUXQS_MAX_PART_MIB = 10;

const RSS_COVERS =
  'RSS is that of the process doing the transfer only: a fresh Node worker running the ingest handler ' +
  '(or the baseline copy), or the rclone process. The upstream, SQS, DynamoDB and S3 servers run in other ' +
  'processes and are not counted. "before" is the worker after its warm-up and a full GC; "peak" is the ' +
  `highest of RSS sampled every ${SAMPLE_INTERVAL_MS} ms and the kernel's VmHWM (reset just before the transfer).`;

type PathName = WorkerMode | 'rclone';

interface Options {
  sizesMb: number[];
  s3: LocalS3Server;
  partSizeMib: number;
  concurrency: number;
  rclone: boolean;
  sdkBaseline: boolean;
  out: string;
}

interface Row {
  sizeBytes: number;
  path: PathName;
  ok: boolean;
  error?: string;
  seconds?: number;
  mbPerSecond?: number;
  cpuSeconds?: number;
  rssBeforeBytes?: number | null;
  rssPeakBytes?: number;
  rssPeakSampledBytes?: number;
  rssHwmBytes?: number | null;
  arrayBuffersPeakBytes?: number;
  heapUsedPeakBytes?: number;
  /**
   * CPU the servers used during the transfer: this process (upstream generating and serving the
   * bytes, SQS, DynamoDB, and S3 itself with fauxqs) and the s3rver process (null with fauxqs).
   */
  serverCpuSeconds?: { benchProcess: number; s3rver: number | null };
  /** What was checked about the stored object after the run. */
  verified?: string;
}

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);

/** A bad command line: printed with the usage, without a stack. */
class UsageError extends Error {}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '10,100,1000' },
      s3: { type: 'string', default: 's3rver' },
      'part-size-mib': { type: 'string', default: '8' },
      concurrency: { type: 'string', default: '4' },
      'skip-rclone': { type: 'boolean', default: false },
      'skip-sdk-baseline': { type: 'boolean', default: false },
      out: { type: 'string', default: join(benchDir, 'results', 'latest.json') },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const sizesMb = values.sizes.split(',').map((s) => Number(s.trim()));
  if (sizesMb.length === 0 || sizesMb.some((n) => !Number.isFinite(n) || n <= 0 || n > 50_000)) {
    throw new UsageError('--sizes takes sizes in MB (10^6 bytes), comma separated, e.g. 10,100,1000');
  }
  if (values.s3 !== 's3rver' && values.s3 !== 'fauxqs') throw new UsageError('--s3 is s3rver or fauxqs');
  const partSizeMib = Number(values['part-size-mib']);
  if (!Number.isInteger(partSizeMib) || partSizeMib < 5 || partSizeMib > 64) throw new UsageError('--part-size-mib is 5..64');
  if (values.s3 === 'fauxqs' && partSizeMib > FAUXQS_MAX_PART_MIB) {
    throw new UsageError(`fauxqs rejects request bodies over 11 MiB: use --part-size-mib ${FAUXQS_MAX_PART_MIB} or less`);
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) throw new UsageError('--concurrency is 1..16');
  return {
    sizesMb,
    s3: values.s3,
    partSizeMib,
    concurrency,
    rclone: !values['skip-rclone'],
    sdkBaseline: !values['skip-sdk-baseline'],
    out: values.out,
  };
}

const USAGE = `Usage: npm run bench -- [options]
  --sizes LIST          file sizes in MB (10^6 bytes), comma separated   (default 10,100,1000)
  --s3 SERVER           s3rver (on disk, own process) or fauxqs (in memory) (default s3rver)
  --part-size-mib N     multipart part size for all paths, 5..64          (default 8; fauxqs: <= 10)
  --concurrency N       parts in flight for all paths, 1..16              (default 4)
  --skip-rclone         do not run rclone copyurl even if rclone is installed
  --skip-sdk-baseline   do not run the baseline with the SDK's default payload signing
  --out FILE            JSON results                                      (default bench/results/latest.json)`;

/** Live resources, so that a signal or a failure can clean them up. */
const live = { children: new Set<ChildProcess>(), cleanups: [] as (() => Promise<void>)[] };

async function cleanUp(): Promise<void> {
  for (const child of live.children) child.kill('SIGKILL');
  live.children.clear();
  for (const fn of live.cleanups.splice(0).reverse()) {
    await fn().catch((err: unknown) => console.error('cleanup failed:', err));
  }
}

interface Context {
  opts: Options;
  aws: LocalAws;
  s3: S3Client;
  repository: DynamoDbFileIndex;
  upstream: UpstreamServer;
  queues: { queueUrl: string; dlqUrl: string };
  rclone: { version: string; config: string } | undefined;
  /** The s3rver process, whose CPU time is read around each transfer; undefined with fauxqs. */
  s3rverPid: number | undefined;
}

type RcloneSetup = { version: string; config: string } | { skipped: string };

async function main(): Promise<void> {
  let parsed: Options | 'help';
  try {
    parsed = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError || (err instanceof TypeError && 'code' in err))) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (parsed === 'help') {
    console.log(USAGE);
    return;
  }
  const opts = parsed;
  const benchStarted = performance.now();
  const loadBefore = loadavg();
  forceLocalCredentials();

  const tmp = await mkdtemp(join(tmpdir(), 'archiver-bench-'));
  live.cleanups.push(() => rm(tmp, { recursive: true, force: true }));
  // No dataDir: DynamoDB in memory, s3rver in a temporary directory removed when it stops.
  const aws = await startLocalAws({ s3: opts.s3 });
  live.cleanups.push(() => aws.stop());
  const s3 = createS3Client({ endpoint: aws.s3Endpoint });
  const doc = createDocumentClient({ endpoint: aws.dynamodbEndpoint });
  const sqs = createSqsClient({ endpoint: aws.sqsEndpoint });
  await ensureBucket(s3, BUCKET);
  await ensureTable(doc, TABLE);
  const queues = await ensureQueues(sqs, { name: QUEUE, maxReceiveCount: 3, visibilityTimeoutSeconds: 900 });
  const upstream = await startUpstreamServer({ apiKey: API_KEY });
  live.cleanups.push(() => upstream.close());

  const rcloneSetup: RcloneSetup = opts.rclone ? await prepareRclone(tmp, aws, opts.s3) : { skipped: '--skip-rclone' };
  const rclone = 'config' in rcloneSetup ? rcloneSetup : undefined;
  const s3rverPid = opts.s3 === 's3rver' ? findChildPid(process.pid, 's3rver-process') : undefined;
  const ctx: Context = { opts, aws, s3, repository: new DynamoDbFileIndex(doc, TABLE), upstream, queues, rclone, s3rverPid };

  const paths: PathName[] = ['ingest', 'baseline', ...(opts.sdkBaseline ? (['baseline-sdk'] as const) : []), ...(rclone ? (['rclone'] as const) : [])];
  console.log(`claude-file-archiver ingest benchmark: S3 ${opts.s3} at ${aws.s3Endpoint}, upstream ${upstream.url}`);
  console.log(
    `part size ${opts.partSizeMib} MiB (raised for files over ${((opts.partSizeMib * MIB * 10_000) / MB).toFixed(0)} MB), ` +
      `${opts.concurrency} parts in flight, ${cpus().length} CPUs, Node ${process.version}`,
  );
  console.log('skipped' in rcloneSetup ? `rclone copyurl: SKIPPED (${rcloneSetup.skipped})` : `rclone copyurl: ${rcloneSetup.version}`);

  const rows: Row[] = [];
  let seed = 1;
  for (const sizeMb of opts.sizesMb) {
    const sizeBytes = Math.round(sizeMb * MB);
    seed += 1;
    const digest = await registerContent(upstream, sizeBytes, seed);
    for (const path of paths) {
      const row = await measure(ctx, path, sizeBytes, seed, digest);
      rows.push(row);
      printRow(row);
    }
  }

  const benchSeconds = (performance.now() - benchStarted) / 1000;
  console.log('');
  printTable(rows);
  console.log('');
  console.log('MB = 10^6 bytes; MB/s = file bytes / wall seconds of the transfer; CPU s = user+system seconds of the transferring process.');
  console.log(
    `servers CPU s = CPU of the servers during the transfer: this bench process (upstream generating and serving the bytes, SQS, DynamoDB${opts.s3 === 'fauxqs' ? ', S3' : ''})` +
      (opts.s3 === 's3rver' ? ' + the s3rver process.' : '.'),
  );
  console.log(RSS_COVERS);
  const loadAfter = loadavg();
  console.log(
    `load average (1 min) ${loadBefore[0]?.toFixed(2) ?? '?'} before, ${loadAfter[0]?.toFixed(2) ?? '?'} after, on ${cpus().length} CPUs: ` +
      'other work on the machine slows every row',
  );
  console.log(`bench took ${benchSeconds.toFixed(1)} s`);

  const result = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
      platform: `${platform()} ${release()}`,
      node: process.version,
      loadAverage1mBefore: loadBefore[0] ?? null,
      loadAverage1mAfter: loadAfter[0] ?? null,
    },
    settings: {
      s3: opts.s3,
      partSizeMib: opts.partSizeMib,
      concurrency: opts.concurrency,
      sizesMb: opts.sizesMb,
      warmUpBytes: WARM_UP_BYTES,
      sampleIntervalMs: SAMPLE_INTERVAL_MS,
    },
    units: 'MB = 10^6 bytes; seconds are wall time of the transfer; cpuSeconds are user+system of the transferring process',
    rssCovers: RSS_COVERS,
    rclone: 'skipped' in rcloneSetup ? { skipped: rcloneSetup.skipped } : { version: rcloneSetup.version },
    benchSeconds,
    rows,
  };
  await mkdir(dirname(opts.out), { recursive: true });
  await writeFile(opts.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`results written to ${relative(process.cwd(), opts.out) || opts.out}`);
  if (rows.some((r) => !r.ok)) process.exitCode = 1;
}

/** Dummy credentials always (s3rver accepts only S3RVER): a developer's real ones are never picked up. */
function forceLocalCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  // The SDK's notice that it will need Node 22 from 2027, once per process: noise in a table.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

function fileIdFor(path: PathName | 'warm-up', sizeBytes: number, seed: number, n = 0): string {
  return `claude_gen_file_bench${sizeBytes}s${seed}${path.replace(/[^a-z]/g, '')}${n}`;
}

function chatIdFor(seed: number): string {
  return `claude_chat_bench${seed}`;
}

/** Registers the files of one size (all the same bytes) and returns their digest (a pre-pass upstream). */
async function registerContent(upstream: UpstreamServer, sizeBytes: number, seed: number): Promise<ContentDigest> {
  const started = performance.now();
  const paths: PathName[] = ['ingest', 'baseline', 'baseline-sdk', 'rclone'];
  for (const path of paths) {
    await upstream.addFile({
      source: 'generated',
      id: fileIdFor(path, sizeBytes, seed),
      chatId: chatIdFor(seed),
      filename: `bench-${sizeBytes}.bin`,
      mimeType: 'application/octet-stream',
      content: { size: sizeBytes, seed },
    });
    await upstream.addFile({
      source: 'generated',
      id: fileIdFor('warm-up', sizeBytes, seed, paths.indexOf(path)),
      chatId: chatIdFor(seed),
      filename: 'warm-up.bin',
      mimeType: 'application/octet-stream',
      content: { size: WARM_UP_BYTES, seed: 1 },
    });
  }
  const digest = await upstream.digestOf(fileIdFor('ingest', sizeBytes, seed));
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n${formatSize(sizeBytes)}: upstream content ready (digest pre-pass ${seconds.toFixed(1)} s)`);
  return digest;
}

interface CpuSnapshot {
  bench: NodeJS.CpuUsage;
  s3rver: number | undefined;
}

function cpuSnapshot(ctx: Context): CpuSnapshot {
  return { bench: process.cpuUsage(), s3rver: ctx.s3rverPid === undefined ? undefined : readCpuSeconds(ctx.s3rverPid) };
}

function serverCpuBetween(from: CpuSnapshot | undefined, to: CpuSnapshot | undefined): Row['serverCpuSeconds'] | undefined {
  if (!from || !to) return undefined;
  const bench = (to.bench.user - from.bench.user + to.bench.system - from.bench.system) / 1e6;
  const s3rver = from.s3rver !== undefined && to.s3rver !== undefined ? to.s3rver - from.s3rver : null;
  return { benchProcess: bench, s3rver };
}

/** Allowed time for one transfer: generous, so only a hang trips it. */
function timeoutMsFor(sizeBytes: number): number {
  return 60_000 + (sizeBytes / (2 * MB)) * 1000;
}

async function measure(ctx: Context, path: PathName, sizeBytes: number, seed: number, digest: ContentDigest): Promise<Row> {
  const fileId = fileIdFor(path, sizeBytes, seed);
  const warmUpId = fileIdFor('warm-up', sizeBytes, seed, ['ingest', 'baseline', 'baseline-sdk', 'rclone'].indexOf(path));
  let row: Row;
  let key: string | undefined;
  try {
    if (path === 'rclone') {
      const rclone = ctx.rclone;
      if (!rclone) throw new Error('rclone is not prepared');
      const warmUpKey = `bench/rclone/${warmUpId}`;
      await runRclone(ctx, rclone.config, warmUpId, warmUpKey, WARM_UP_BYTES);
      await deleteObject(ctx.s3, warmUpKey);
      key = `bench/rclone/${fileId}`;
      row = await runRclone(ctx, rclone.config, fileId, key, sizeBytes);
    } else {
      const outcome = await runWorker(ctx, path, { fileId, chatId: chatIdFor(seed), sizeBytes }, { fileId: warmUpId, chatId: chatIdFor(seed), sizeBytes: WARM_UP_BYTES });
      row = outcome.row;
      key = outcome.key;
    }
    if (row.ok && key !== undefined) row.verified = await verify(ctx, path, key, fileId, sizeBytes, digest);
  } catch (err) {
    row = { sizeBytes, path, ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    // Keep the servers' disk and memory small: every object goes once measured.
    if (key !== undefined) await deleteObject(ctx.s3, key).catch(() => undefined);
    if (path !== 'rclone') {
      const warmUpKey = path === 'ingest' ? `archive/generated/${warmUpId}` : `bench/${path}/${warmUpId}`;
      await deleteObject(ctx.s3, warmUpKey).catch(() => undefined);
    }
  }
  return row;
}

async function runWorker(
  ctx: Context,
  mode: WorkerMode,
  file: WorkerTask['file'],
  warmUp: WorkerTask['warmUp'],
): Promise<{ row: Row; key: string | undefined }> {
  const task: WorkerTask = {
    type: 'task',
    mode,
    upstreamUrl: ctx.upstream.url,
    apiKey: API_KEY,
    s3Endpoint: ctx.aws.s3Endpoint,
    sqsEndpoint: ctx.aws.sqsEndpoint,
    dynamodbEndpoint: ctx.aws.dynamodbEndpoint,
    bucket: BUCKET,
    table: TABLE,
    queueUrl: ctx.queues.queueUrl,
    deadLetterQueueUrl: ctx.queues.dlqUrl,
    partSizeMib: ctx.opts.partSizeMib,
    concurrency: ctx.opts.concurrency,
    warmUp,
    file,
    sampleIntervalMs: SAMPLE_INTERVAL_MS,
  };
  const script = join(benchDir, 'transfer-worker.ts');
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fork(script, [], {
    cwd: repoRoot,
    execArgv: ['--import', tsxLoader, '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.children.add(child);
  const timeoutMs = timeoutMsFor(file.sizeBytes) + timeoutMsFor(warmUp.sizeBytes);
  let cpuAtStart: CpuSnapshot | undefined;
  let cpuAtEnd: CpuSnapshot | undefined;
  try {
    const message = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`worker did not finish within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      child.on('message', (m: unknown) => {
        const mark = WorkerMarkSchema.safeParse(m);
        if (mark.success) {
          if (mark.data.phase === 'start') cpuAtStart = cpuSnapshot(ctx);
          else cpuAtEnd = cpuSnapshot(ctx);
          return;
        }
        clearTimeout(timer);
        resolve(m);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`worker exited without a result (code ${code}, signal ${signal})`));
      });
      child.send(task);
    });
    const result = WorkerResultSchema.parse(message);
    if (!result.ok) return { row: { sizeBytes: file.sizeBytes, path: mode, ok: false, error: result.error }, key: undefined };
    const serverCpuSeconds = serverCpuBetween(cpuAtStart, cpuAtEnd);
    return {
      key: result.key,
      row: {
        sizeBytes: file.sizeBytes,
        path: mode,
        ok: true,
        seconds: result.seconds,
        mbPerSecond: result.bytes / MB / result.seconds,
        cpuSeconds: result.cpuSeconds,
        rssBeforeBytes: result.rssBeforeBytes,
        rssPeakBytes: result.rssPeakBytes,
        rssPeakSampledBytes: result.rssPeakSampledBytes,
        rssHwmBytes: result.rssHwmBytes,
        arrayBuffersPeakBytes: result.arrayBuffersPeakBytes,
        heapUsedPeakBytes: result.heapUsedPeakBytes,
        ...(serverCpuSeconds ? { serverCpuSeconds } : {}),
      },
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.disconnect();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    live.children.delete(child);
  }
}

/** Finds rclone and writes its config for this S3 server, or says why rclone cannot run. */
async function prepareRclone(tmp: string, aws: LocalAws, server: LocalS3Server): Promise<RcloneSetup> {
  const probe = spawnSync('rclone', ['version'], { encoding: 'utf8', env: rcloneEnv() });
  if (probe.error || probe.status !== 0) return { skipped: 'rclone is not on PATH' };
  if (server === 'fauxqs') {
    // Go's XML encoder writes the quotes of each ETag as &#34;, which fauxqs 1.9.2 does not decode:
    // every CompleteMultipartUpload from rclone fails with InvalidPart.
    return { skipped: 'fauxqs cannot complete rclone multipart uploads (InvalidPart: it does not decode &#34; in ETags); use --s3 s3rver' };
  }
  const version = probe.stdout.split('\n')[0]?.trim() ?? 'rclone';
  const config = join(tmp, 'rclone.conf');
  await writeFile(
    config,
    [
      '[bench]',
      'type = s3',
      'provider = Other',
      // s3rver accepts only this access key; fauxqs accepts any.
      'access_key_id = S3RVER',
      'secret_access_key = S3RVER',
      'region = us-east-1',
      `endpoint = ${aws.s3Endpoint}`,
      'force_path_style = true',
      '',
    ].join('\n'),
  );
  return { version, config };
}

/** rclone is a Go program: it does not accept the AWS_CA_BUNDLE the JS SDK tolerates. */
function rcloneEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE;
  for (const name of Object.keys(env)) if (name.startsWith('RCLONE_')) delete env[name];
  return env;
}

/** `rclone copyurl` from the upstream's content URL to the same bucket, with the same part size and concurrency. */
async function runRclone(ctx: Context, config: string, fileId: string, key: string, sizeBytes: number): Promise<Row> {
  const url = `${ctx.upstream.url}${metadataPath(fileId, 'generated')}/content`;
  const partMib = choosePartSize(sizeBytes, ctx.opts.partSizeMib * MIB) / MIB;
  const args = [
    'copyurl',
    url,
    `bench:${BUCKET}/${key}`,
    '--config',
    config,
    '--header',
    `x-api-key: ${API_KEY}`,
    '--header',
    `anthropic-version: ${ANTHROPIC_VERSION}`,
    '--s3-chunk-size',
    `${partMib}Mi`,
    '--s3-upload-concurrency',
    String(ctx.opts.concurrency),
    '--s3-no-check-bucket',
    '--retries',
    '1',
    '--low-level-retries',
    '1',
    '--stats',
    '0',
  ];
  const cpuAtStart = cpuSnapshot(ctx);
  const started = performance.now();
  const child = spawn('rclone', args, { env: rcloneEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  live.children.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const pid = child.pid;
  const sampler = pid === undefined ? undefined : sampleProcess(pid, SAMPLE_INTERVAL_MS);
  const timeoutMs = timeoutMsFor(sizeBytes);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`rclone did not finish within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      // 'exit' rather than 'close': the process is gone, /proc sampling has its last readings.
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    const seconds = (performance.now() - started) / 1000;
    const serverCpuSeconds = serverCpuBetween(cpuAtStart, cpuSnapshot(ctx));
    const usage = sampler?.stop();
    if (code !== 0) return { sizeBytes, path: 'rclone', ok: false, error: `rclone exited ${code}: ${stderr.trim()}` };
    return {
      sizeBytes,
      path: 'rclone',
      ok: true,
      seconds,
      mbPerSecond: sizeBytes / MB / seconds,
      ...(usage?.cpuSeconds === undefined ? {} : { cpuSeconds: usage.cpuSeconds }),
      rssBeforeBytes: null,
      ...(usage?.peakRssBytes === undefined ? {} : { rssPeakBytes: usage.peakRssBytes, rssHwmBytes: usage.peakRssBytes }),
      ...(serverCpuSeconds ? { serverCpuSeconds } : {}),
    };
  } finally {
    sampler?.stop();
    live.children.delete(child);
  }
}

/** Checks the stored object's size; for the ingest path, also that the index holds the true hashes. */
async function verify(ctx: Context, path: PathName, key: string, fileId: string, sizeBytes: number, digest: ContentDigest): Promise<string> {
  const head = await ctx.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  if (head.ContentLength !== sizeBytes) throw new Error(`${key}: stored ${head.ContentLength} bytes, expected ${sizeBytes}`);
  if (path !== 'ingest') return 'size';
  const record = await ctx.repository.get(fileId);
  if (record?.status !== 'archived') throw new Error(`${fileId}: index status ${record?.status ?? 'missing'}, expected archived`);
  if (record.sha256 !== digest.sha256Hex || record.md5 !== digest.md5Hex || record.sizeBytes !== sizeBytes) {
    throw new Error(`${fileId}: indexed hashes or size differ from upstream's`);
  }
  return 'size, indexed md5+sha256';
}

async function deleteObject(s3: S3Client, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
}

function formatSize(bytes: number): string {
  return bytes >= 1e9 && bytes % 1e9 === 0 ? `${bytes / 1e9} GB` : `${+(bytes / MB).toFixed(1)} MB`;
}

function mb(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? '-' : (bytes / MB).toFixed(0);
}

/** Bench process + s3rver, as "total (bench + s3rver)". */
function serversCpu(cpu: Row['serverCpuSeconds']): string {
  if (!cpu) return '-';
  if (cpu.s3rver === null) return cpu.benchProcess.toFixed(2);
  return `${(cpu.benchProcess + cpu.s3rver).toFixed(1)} (${cpu.benchProcess.toFixed(1)}+${cpu.s3rver.toFixed(1)})`;
}

function printRow(row: Row): void {
  if (!row.ok) {
    console.log(`  ${row.path.padEnd(13)} FAILED: ${row.error ?? 'unknown error'}`);
    return;
  }
  console.log(
    `  ${row.path.padEnd(13)} ${row.seconds?.toFixed(2) ?? '-'} s  ${row.mbPerSecond?.toFixed(1) ?? '-'} MB/s  ` +
      `peak RSS ${mb(row.rssPeakBytes)} MB (before ${mb(row.rssBeforeBytes)} MB)  verified: ${row.verified ?? '-'}`,
  );
}

function printTable(rows: Row[]): void {
  const header = ['size', 'path', 'seconds', 'MB/s', 'CPU s', 'servers CPU s', 'RSS before MB', 'peak RSS MB', 'peak-before MB'];
  const body = rows.map((r) =>
    r.ok
      ? [
          formatSize(r.sizeBytes),
          r.path,
          r.seconds?.toFixed(2) ?? '-',
          r.mbPerSecond?.toFixed(1) ?? '-',
          r.cpuSeconds?.toFixed(2) ?? '-',
          serversCpu(r.serverCpuSeconds),
          mb(r.rssBeforeBytes),
          mb(r.rssPeakBytes),
          r.rssPeakBytes !== undefined && typeof r.rssBeforeBytes === 'number' ? mb(r.rssPeakBytes - r.rssBeforeBytes) : '-',
        ]
      : [formatSize(r.sizeBytes), r.path, 'FAILED', '-', '-', '-', '-', '-', '-'],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const cells of body) console.log(line(cells));
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping the benchmark and removing its temporary data`);
    void cleanUp().finally(() => process.exit(130));
  });
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanUp();
    // Keep-alive sockets of the SDK clients would hold the process open for a while.
    process.exit();
  });
