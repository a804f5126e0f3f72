/** What the benchmark prints as it goes and at the end, and the JSON results it writes. */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, relative } from 'node:path';
import { MB, SAMPLE_INTERVAL_MS, WARM_UP_BYTES, type Row } from './bench-context.js';
import type { Options } from './options.js';
import type { RcloneSetup } from './rclone-runner.js';

export const RSS_COVERS =
  'RSS is that of the process doing the transfer only: a fresh Node worker running the ingest handler ' +
  '(or the baseline copy), or the rclone process. The upstream, SQS, DynamoDB and S3 servers run in other ' +
  'processes and are not counted. "before" is the worker after its warm-up and a full GC; "peak" is the ' +
  `highest of RSS sampled every ${SAMPLE_INTERVAL_MS} ms and the kernel's VmHWM (reset just before the transfer).`;

export function formatSize(bytes: number): string {
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

export function printRow(row: Row): void {
  if (!row.ok) {
    console.log(`  ${row.path.padEnd(13)} FAILED: ${row.error ?? 'unknown error'}`);
    return;
  }
  console.log(
    `  ${row.path.padEnd(13)} ${row.seconds?.toFixed(2) ?? '-'} s  ${row.mbPerSecond?.toFixed(1) ?? '-'} MB/s  ` +
      `peak RSS ${mb(row.rssPeakBytes)} MB (before ${mb(row.rssBeforeBytes)} MB)  verified: ${row.verified ?? '-'}`,
  );
}

export function printTable(rows: Row[]): void {
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

/** The run as a whole, what each figure means, and what else the machine was doing. */
export interface RunSummary {
  opts: Options;
  rows: Row[];
  rcloneSetup: RcloneSetup;
  benchSeconds: number;
  loadBefore: number[];
}

/** Prints the table and its legend, then writes the JSON results to `opts.out`. */
export async function reportRun({ opts, rows, rcloneSetup, benchSeconds, loadBefore }: RunSummary): Promise<void> {
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
}
