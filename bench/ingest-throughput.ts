/**
 * `npm run bench`: throughput and memory of the ingest path on local servers, beside a raw copy of the
 * same bytes. See docs/benchmark.md for what is measured and how to read it.
 *
 * This process starts the servers (DynamoDB and SQS in process, S3 in process for fauxqs or as a
 * child process for s3rver) and the local upstream, which generates each file's bytes on the fly.
 * Each measured transfer runs in a fresh worker process (bench/transfer-worker.ts) so that its memory
 * figures are the archiver's alone; rclone, when installed, runs as its own process too.
 *
 *   npm run bench -- [--sizes 10,100,1000,5GiB] [--s3 s3rver|fauxqs] [--part-size-mib 8] [--concurrency 4]
 *                    [--skip-rclone] [--skip-sdk-baseline] [--small-files 1000] [--small-file-kb 50]
 *                    [--out FILE] [--chart FILE] [--cpu-prof-dir DIR] [--repeat N]
 *
 * This file starts everything and runs the rows; the parts are options.ts (command line),
 * bench-files.ts (the generated upstream files), measure.ts (one row), worker-runner.ts and
 * rclone-runner.ts (the transfers), small-files.ts (the many-small-files run), server-cpu.ts,
 * report.ts (what is printed and written) and chart.ts (the SVG).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { useLocalAwsEnvironment } from '../shared/platform/local-account.js';
import { ensureBucket, ensureQueues, ensureTable } from '../local/aws/resources.js';
import { startLocalAws } from '../local/aws/servers.js';
import { startUpstreamServer } from '../local/upstream/server.js';
import { createDocumentClient, createS3Client, createSqsClient } from '../shared/platform/aws-clients.js';
import { DynamoDbFileIndex } from '../shared/index/dynamodb-file-index.js';
import {
  API_KEY,
  BENCH_MAX_RECEIVE_COUNT,
  BUCKET,
  MB,
  MIB,
  QUEUE,
  TABLE,
  cleanUp,
  live,
  type BenchContext,
  type PathName,
  type Row,
} from './bench-context.js';
import { registerContent } from './bench-files.js';
import { measure } from './measure.js';
import { findChildPid } from './memory.js';
import { USAGE, UsageError, parseOptions, type Options } from './options.js';
import { prepareRclone, type RcloneSetup } from './rclone-runner.js';
import { formatSize, printRow, reportRun } from './report.js';
import { runSmallFiles, type SmallFilesResult } from './small-files.js';

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
  useLocalAwsEnvironment();

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
  const queues = await ensureQueues(sqs, {
    name: QUEUE,
    maxReceiveCount: BENCH_MAX_RECEIVE_COUNT,
    visibilityTimeoutSeconds: 900,
  });
  const upstream = await startUpstreamServer({ apiKey: API_KEY });
  live.cleanups.push(() => upstream.close());

  const rcloneSetup: RcloneSetup = opts.rclone ? await prepareRclone(tmp, aws, opts.s3) : { skipped: '--skip-rclone' };
  const rclone = 'config' in rcloneSetup ? rcloneSetup : undefined;
  const s3rverPid = opts.s3 === 's3rver' ? findChildPid(process.pid, 's3rver-process') : undefined;
  const ctx: BenchContext = {
    opts,
    aws,
    s3,
    repository: new DynamoDbFileIndex(doc, TABLE),
    upstream,
    queues,
    rclone,
    s3rverPid,
  };

  const paths: PathName[] = [
    'ingest',
    'baseline',
    ...(opts.sdkBaseline ? (['baseline-sdk'] as const) : []),
    ...(rclone ? (['rclone'] as const) : []),
  ];
  console.log(`claude-file-archiver ingest benchmark: S3 ${opts.s3} at ${aws.s3Endpoint}, upstream ${upstream.url}`);
  console.log(
    `part size ${opts.partSizeMib} MiB (raised for files over ${((opts.partSizeMib * MIB * 10_000) / MB).toFixed(0)} ` +
      `MB), ` +
      `${opts.concurrency} parts in flight, ${cpus().length} CPUs, Node ${process.version}`,
  );
  console.log(
    'skipped' in rcloneSetup
      ? `rclone copyurl: SKIPPED (${rcloneSetup.skipped})`
      : `rclone copyurl: ${rcloneSetup.version}`,
  );

  const rows: Row[] = [];
  let seed = 1;
  for (const sizeBytes of opts.sizesBytes) {
    // Above 2 GB the question is memory: the baselines and repetitions would lengthen the run and
    // answer nothing new.
    const runs = sizeBytes > 2e9 ? 1 : opts.repeat;
    for (let run = 1; run <= runs; run++) {
      seed += 1;
      const digest = await registerContent(upstream, sizeBytes, seed);
      for (const path of sizeBytes > 2e9 ? paths.filter((p) => p === 'ingest' || p === 'rclone') : paths) {
        const row = { ...(await measure(ctx, path, sizeBytes, seed, digest)), ...(runs > 1 ? { run } : {}) };
        rows.push(row);
        printRow(row);
      }
    }
  }

  let smallFiles: SmallFilesResult | { failed: string } | undefined;
  if (opts.smallFiles > 0) {
    console.log(
      `\n${opts.smallFiles} files of ${formatSize(opts.smallFileBytes)} ` +
        `through the local stack (event source, batches of 5, 2 pollers)`,
    );
    try {
      smallFiles = await runSmallFiles(ctx, opts.smallFiles, opts.smallFileBytes, seed + 1);
    } catch (err) {
      smallFiles = { failed: err instanceof Error ? err.message : String(err) };
    }
  }

  const benchSeconds = (performance.now() - benchStarted) / 1000;
  await reportRun({ opts, rows, smallFiles, rcloneSetup, benchSeconds, loadBefore });
  if (rows.some((r) => !r.ok) || (smallFiles !== undefined && 'failed' in smallFiles)) process.exitCode = 1;
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
