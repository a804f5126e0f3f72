/**
 * `npm run bench:export`: an eDiscovery export of mixed files (many small, some medium, a few large)
 * against a plain copy of the same objects from the same S3 server, each in its own process and each
 * against its own freshly started servers holding the same seeded files (see `seed`), both with the
 * export function's deployed V8 heap flags (`V8_FLAGS`).
 * Reports MB/s of each, their ratio, and the peak RSS growth of the export process.
 * Goals (docs/benchmark.md): export ≥ 0.8× the plain copy's MB/s; RSS growth ≤ 128 MiB.
 *
 *   npm run bench:export -- [--total-mb 2000] [--s3 s3rver|fauxqs|rgw] [--part-size-mib 5] [--concurrency 3] [--out
 *   r.json] [--cpu-prof-dir DIR]
 *
 * `--cpu-prof-dir` writes a V8 CPU profile of each worker process there (`node --cpu-prof`; open it in
 * Chrome DevTools or read it with bench/cpu-profile-summary.ts).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { useLocalAwsEnvironment } from '../shared/platform/local-account.js';
import { ensureBucket, ensureTable } from '../local/aws/resources.js';
import { startLocalAws } from '../local/aws/servers.js';
import { findChildPids, readCpuSeconds } from './memory.js';
import type { LocalAws, LocalS3Server } from '../local/aws/servers.js';
import { newExportId, queuedExportJob } from '../shared/contracts/exports.js';
import { objectKeyFor } from '../shared/contracts/object-keys.js';
import { fileItemKey } from '../shared/contracts/table-keys.js';
import { createHash } from 'node:crypto';
import { DynamoDbExportJobs } from '../shared/index/dynamodb-export-jobs.js';
import { exportV8Flags } from '../infra/sizing.js';
import { createDocumentClient, createS3Client } from '../shared/platform/aws-clients.js';

const MB = 1_000_000;
const MIB = 1024 * 1024;
/** The goals this bench checks (docs/benchmark.md). */
export const EXPORT_GOALS = { minRatio: 0.8, maxRssGrowthMiB: 128 } as const;

interface Opts {
  totalMb: number;
  s3: LocalS3Server;
  partSizeMib: number;
  concurrency: number;
  out: string | undefined;
  cpuProfDir: string | undefined;
}

function parse(argv: string[]): Opts {
  const opts: Opts = {
    totalMb: 2000,
    s3: 's3rver',
    partSizeMib: 5,
    concurrency: 3,
    out: undefined,
    cpuProfDir: undefined,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '--total-mb') opts.totalMb = positive(value, flag);
    else if (flag === '--part-size-mib') opts.partSizeMib = positive(value, flag);
    else if (flag === '--concurrency') opts.concurrency = positive(value, flag);
    else if (flag === '--out') opts.out = value;
    else if (flag === '--cpu-prof-dir') opts.cpuProfDir = value;
    else if (flag === '--s3' && (value === 's3rver' || value === 'fauxqs' || value === 'rgw')) opts.s3 = value;
    else throw new Error(`unknown option ${flag} (see the header of bench/export.ts)`);
  }
  return opts;
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive whole number`);
  return n;
}

/**
 * Sizes adding up to `totalBytes`: by bytes a third each of small (4 KB-1 MB), medium (1-10 MB) and
 * large (10 MB-10 MiB part of fauxqs's limit, or up to 200 MB on s3rver) files; seeded, so runs compare.
 */
function mixedSizes(totalBytes: number, maxLarge: number): number[] {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const sizes: number[] = [];
  const classes: [number, number][] = [
    [4_000, 1 * MB],
    [1 * MB, 10 * MB],
    [10 * MB, maxLarge],
  ];
  for (const [lo, hi] of classes) {
    let budget = Math.floor(totalBytes / 3);
    while (budget > 0) {
      const size = Math.min(Math.floor(lo + rand() * (hi - lo)), budget);
      sizes.push(size);
      budget -= size;
    }
  }
  return sizes;
}

interface WorkerResult {
  seconds: number;
  bytes: number;
  rssBefore: number;
  peakRss: number;
  /** CPU seconds of the worker process, and of the servers it talked to (this process and s3rver's) meanwhile. */
  cpuSeconds: number;
  serverCpuSeconds?: number;
  /** The servers' CPU split: this process (dynalite, fauxqs) and the S3 server's own processes. */
  serverCpuSplit?: ServerCpu;
  /** Sampled every 250 ms: the largest Buffers total (part buffers, stream chunks not yet collected) and JS heap. */
  peakArrayBuffers: number;
  peakHeapUsed: number;
}

/** The S3 servers that run in child processes: s3rver, or the RADOS gateway's three Ceph daemons. */
const S3_SERVER_PROCESSES = ['s3rver', 'radosgw', 'ceph-mon', 'ceph-osd'];

/**
 * CPU seconds used so far by the servers: dynalite and fauxqs run in this process, s3rver or the
 * gateway's daemons in children.
 * On a shared machine wall time follows the load; the CPU each side costs does not, so the bench
 * reports both (Linux /proc; undefined elsewhere).
 */
interface ServerCpu {
  /** This process: dynalite (DynamoDB) and, with `--s3 fauxqs`, the S3 server too. */
  benchProcess: number;
  /** s3rver's process or the gateway's daemons (0 with fauxqs, which runs in this process). */
  s3Processes: number;
}

function serverCpuSeconds(): ServerCpu | undefined {
  const own = readCpuSeconds(process.pid);
  if (own === undefined) return undefined;
  const children = findChildPids(process.pid, S3_SERVER_PROCESSES);
  return { benchProcess: own, s3Processes: children.reduce((sum, pid) => sum + (readCpuSeconds(pid) ?? 0), 0) };
}

async function measured(args: string[], cpuProfDir: string | undefined): Promise<WorkerResult> {
  const before = serverCpuSeconds();
  const result = await runWorker(args, cpuProfDir);
  const after = serverCpuSeconds();
  if (before === undefined || after === undefined) return result;
  const split = {
    benchProcess: after.benchProcess - before.benchProcess,
    s3Processes: after.s3Processes - before.s3Processes,
  };
  return { ...result, serverCpuSeconds: split.benchProcess + split.s3Processes, serverCpuSplit: split };
}

/**
 * The export function's V8 flags as deployed (its NODE_OPTIONS), for both workers: the young
 * generation's size decides how long the dead Buffers of each socket read hold memory, so a worker
 * with Node's defaults would measure a heap the function does not have.
 */
const V8_FLAGS = exportV8Flags();

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function runWorker(args: string[], cpuProfDir: string | undefined): Promise<WorkerResult> {
  const profile = cpuProfDir
    ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `${args[0]}.cpuprofile`]
    : [];
  return new Promise((resolve, reject) => {
    // Both sides run with the V8 heap sizes the export function is deployed with (infra/sizing.ts).
    const child = spawn(
      process.execPath,
      [...V8_FLAGS, ...profile, '--import', tsx, 'bench/export-worker.ts', ...args],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`worker ${args[0]} exited ${code}: ${out}`));
      else resolve(JSON.parse(line));
    });
  });
}

interface Seeded {
  common: string[];
  keys: string;
}

/**
 * Starts the local servers and seeds them with the same files (same sizes, same bytes) and one
 * queued export job over all of them. Each side of the comparison gets its own fresh servers: on the
 * RADOS gateway, whose OSD keeps everything in RAM, whichever side ran second against the same
 * cluster was the slower one (2000 MB: the export at 36 MB/s after the copy, at 69 MB/s before it),
 * so one shared server measured the order, not the code.
 */
async function seed(opts: Opts, sizes: number[], block: Buffer, aws: LocalAws): Promise<Seeded> {
  const s3 = createS3Client({ endpoint: aws.s3Endpoint });
  const doc = createDocumentClient({ endpoint: aws.dynamodbEndpoint });
  try {
    const [archive, exportsBucket, table] = ['bench-export-archive', 'bench-export-bags', 'bench-export-index'];
    await ensureBucket(s3, archive);
    await ensureBucket(s3, exportsBucket);
    await ensureTable(doc, table);
    const objects: { key: string; size: number }[] = [];
    const chat = 'claude_chat_01BenchExport';
    for (const [i, size] of sizes.entries()) {
      const fileId = `claude_gen_file_01Bench${String(i).padStart(6, '0')}`;
      const key = objectKeyFor('generated', fileId);
      // Different bytes per file without generating them all: a slice of a random block, repeated.
      const start = (i * 7919) % MIB;
      const body = Buffer.alloc(size);
      for (let at = 0; at < size; at += block.byteLength - start) block.copy(body, at, start);
      await s3.send(new PutObjectCommand({ Bucket: archive, Key: key, Body: body }));
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...fileItemKey(fileId),
            status: 'archived',
            fileId,
            source: 'generated',
            chatIds: new Set([chat]),
            filename: `bench file ${i}.bin`,
            mimeType: 'application/octet-stream',
            sizeBytes: size,
            createdAt: '2025-06-01T10:00:00.000Z',
            upstreamRequestId: `req_bench_${i}`,
            md5: createHash('md5').update(body).digest('hex'),
            sha256: createHash('sha256').update(body).digest('hex'),
            bucket: archive,
            key,
            versionId: null,
            contentType: 'application/octet-stream',
            contentDisposition: 'attachment',
            archivedAt: '2025-06-02T09:00:00.000Z',
          },
        }),
      );
      objects.push({ key, size });
    }
    const exportId = newExportId();
    const at = new Date().toISOString();
    await new DynamoDbExportJobs(doc, table).create(
      queuedExportJob(
        {
          exportId,
          // A window open at its end, over every file: the one kind of export scope still read by a Scan
          // (docs/exports.md, "How an export finds its files"), so the bench reads the whole table.
          scope: { from: '2025-01-01T00:00:00.000Z' },
          matterId: null,
          description: 'benchmark',
          requestedBy: 'bench',
        },
        at,
      ),
    );
    const common = [
      aws.s3Endpoint,
      aws.dynamodbEndpoint,
      table,
      archive,
      exportsBucket,
      exportId,
      String(opts.partSizeMib),
      String(opts.concurrency),
    ];
    return { common, keys: JSON.stringify(objects) };
  } finally {
    s3.destroy();
    doc.destroy();
  }
}

/** One side of the comparison on fresh servers: start them, seed them, run the worker, stop them. */
async function side(mode: 'copy' | 'export', opts: Opts, sizes: number[], block: Buffer): Promise<WorkerResult> {
  // On the gateway every byte lives in the OSD's RAM: the seeded files and one side's output, plus room
  // for the multipart parts before they are combined.
  const aws = await startLocalAws({ s3: opts.s3, rgwMemstoreBytes: Math.max(1 << 30, 3 * opts.totalMb * MB) });
  try {
    console.log(`${mode}: seeding ${sizes.length} files, ${opts.totalMb.toFixed(0)} MB, on a fresh ${opts.s3}…`);
    const { common, keys } = await seed(opts, sizes, block, aws);
    console.log(
      mode === 'copy'
        ? 'plain copy (GetObject streamed into PutObject, one object at a time)…'
        : 'export (the bag streamed into a multipart upload, hashed and checked)…',
    );
    return await measured(mode === 'copy' ? ['copy', ...common, keys] : ['export', ...common, '[]'], opts.cpuProfDir);
  } finally {
    await aws.stop();
  }
}

async function main(): Promise<void> {
  const opts = parse(process.argv.slice(2));
  useLocalAwsEnvironment();
  // fauxqs takes bodies up to 11 MiB in one request.
  const sizes = mixedSizes(opts.totalMb * MB, opts.s3 === 'fauxqs' ? 10 * MIB : 200 * MB);
  const block = randomBytes(16 * MIB);
  const copy = await side('copy', opts, sizes, block);
  const exp = await side('export', opts, sizes, block);
  const mbps = (r: { bytes: number; seconds: number }) => r.bytes / MB / r.seconds;
  const ratio = mbps(exp) / mbps(copy);
  const growthMiB = (exp.peakRss - exp.rssBefore) / MIB;
  const result = {
    totalMb: opts.totalMb,
    files: sizes.length,
    s3: opts.s3,
    partSizeMib: opts.partSizeMib,
    concurrency: opts.concurrency,
    cpus: cpus().length,
    node: process.version,
    copy: { ...copy, mbPerSecond: mbps(copy), rssGrowthMiB: (copy.peakRss - copy.rssBefore) / MIB },
    export: { ...exp, mbPerSecond: mbps(exp), rssGrowthMiB: growthMiB },
    ratio,
    goals: {
      ratio: { goal: EXPORT_GOALS.minRatio, met: ratio >= EXPORT_GOALS.minRatio },
      rssGrowthMiB: { goal: EXPORT_GOALS.maxRssGrowthMiB, met: growthMiB <= EXPORT_GOALS.maxRssGrowthMiB },
    },
  };
  console.log(
    `plain copy ${mbps(copy).toFixed(1)} MB/s (${copy.seconds.toFixed(1)} s); export ${mbps(exp).toFixed(1)} MB/s ` +
      `(${exp.seconds.toFixed(1)} s): ratio ${ratio.toFixed(2)} (goal ≥ ${EXPORT_GOALS.minRatio}); ` +
      `export RSS growth ${growthMiB.toFixed(0)} MiB (goal ≤ ${EXPORT_GOALS.maxRssGrowthMiB})`,
  );
  const cpu = (r: WorkerResult) => {
    const split = r.serverCpuSplit;
    const servers = split
      ? ` + servers ${(split.benchProcess + split.s3Processes).toFixed(1)} s ` +
        `(bench process ${split.benchProcess.toFixed(1)} s, S3 server processes ${split.s3Processes.toFixed(1)} s)`
      : '';
    return `${r.cpuSeconds.toFixed(1)} s${servers}`;
  };
  console.log(`CPU: plain copy ${cpu(copy)}; export ${cpu(exp)}; load average ${loadavg()[0]?.toFixed(1)}`);
  const mib = (n: number) => `${(n / MIB).toFixed(0)} MiB`;
  console.log(
    `memory: plain copy RSS growth ${mib(copy.peakRss - copy.rssBefore)}; export peak Buffers ` +
      `${mib(exp.peakArrayBuffers)}, peak JS heap ${mib(exp.peakHeapUsed)}`,
  );
  if (opts.out) await writeFile(opts.out, `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error(`bench:export FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
