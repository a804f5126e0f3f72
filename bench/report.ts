/** What the benchmark prints as it goes and at the end, and the JSON results it writes. */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, relative } from 'node:path';
import { MB, SAMPLE_INTERVAL_MS, WARM_UP_BYTES, WORKER_SAMPLE_INTERVAL_MS, type Row } from './bench-context.js';
import type { Options } from './options.js';
import { drawChart } from './chart.js';
import type { RcloneSetup } from './rclone-runner.js';
import type { SmallFilesResult } from './small-files.js';

export const RSS_COVERS =
  'RSS is that of the process doing the transfer only: a fresh Node worker running the ingest handler ' +
  '(or the baseline copy), or the rclone process. The upstream, SQS, DynamoDB and S3 servers run in other ' +
  'processes and are not counted. "before" is the worker after its warm-up and a full GC; "peak" is the ' +
  `kernel's VmHWM (reset just before the transfer; for rclone read from /proc every ${SAMPLE_INTERVAL_MS} ms), ` +
  `or RSS sampled every ${WORKER_SAMPLE_INTERVAL_MS} ms if higher.`;

export function formatSize(bytes: number): string {
  if (bytes >= 2 ** 30 && bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30} GiB`;
  if (bytes >= 1e9 && bytes % 1e9 === 0) return `${bytes / 1e9} GB`;
  if (bytes < MB) return `${+(bytes / 1000).toFixed(1)} KB`;
  return `${+(bytes / MB).toFixed(1)} MB`;
}

/** CPU seconds per GB (10^9 bytes) of file: the figure that carries over to Lambda, where it is the cost. */
export function cpuPerGb(row: Row): number | undefined {
  return row.cpuSeconds === undefined ? undefined : row.cpuSeconds / (row.sizeBytes / 1e9);
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
    console.log(`  ${label(row).padEnd(13)} FAILED: ${row.error ?? 'unknown error'}`);
    return;
  }
  console.log(
    `  ${label(row).padEnd(13)} ${row.seconds?.toFixed(2) ?? '-'} s  ${row.mbPerSecond?.toFixed(1) ?? '-'} MB/s  ` +
      `${cpuPerGb(row)?.toFixed(2) ?? '-'} CPU s/GB  ` +
      (row.gcCount === undefined
        ? ''
        : `GC ${row.gcCount}× ${(row.gcMs ?? 0).toFixed(0)} ms (full ${row.gcMajorCount ?? 0}× ` +
          `${(row.gcMajorMs ?? 0).toFixed(0)} ms)  `) +
      `peak RSS ${mb(row.rssPeakBytes)} MB (before ${mb(row.rssBeforeBytes)} MB)  verified: ${row.verified ?? '-'}`,
  );
}

/** The path, and the repetition when its size ran more than once ("ingest #2"). */
function label(row: Row): string {
  return row.run !== undefined ? `${row.path} #${row.run}` : row.path;
}

export function printTable(rows: Row[]): void {
  const header = [
    'size',
    'path',
    'seconds',
    'MB/s',
    'CPU s',
    'CPU s/GB',
    'servers CPU s',
    'RSS before MB',
    'peak RSS MB',
    'peak-before MB',
  ];
  const body = rows.map((r) =>
    r.ok
      ? [
          formatSize(r.sizeBytes),
          label(r),
          r.seconds?.toFixed(2) ?? '-',
          r.mbPerSecond?.toFixed(1) ?? '-',
          r.cpuSeconds?.toFixed(2) ?? '-',
          cpuPerGb(r)?.toFixed(2) ?? '-',
          serversCpu(r.serverCpuSeconds),
          mb(r.rssBeforeBytes),
          mb(r.rssPeakBytes),
          r.rssPeakBytes !== undefined && typeof r.rssBeforeBytes === 'number'
            ? mb(r.rssPeakBytes - r.rssBeforeBytes)
            : '-',
        ]
      : [formatSize(r.sizeBytes), label(r), 'FAILED', '-', '-', '-', '-', '-', '-', '-'],
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
  smallFiles: SmallFilesResult | { failed: string } | undefined;
  rcloneSetup: RcloneSetup;
  benchSeconds: number;
  loadBefore: number[];
}

/** Prints the table and its legend, then writes the JSON results to `opts.out`. */
export async function reportRun({
  opts,
  rows,
  smallFiles,
  rcloneSetup,
  benchSeconds,
  loadBefore,
}: RunSummary): Promise<void> {
  console.log('');
  printTable(rows);
  console.log('');
  const goals = judgeGoals(rows);
  for (const line of describeGoals(goals)) console.log(line);
  if (smallFiles) printSmallFiles(smallFiles);
  console.log('');
  console.log(
    'MB = 10^6 bytes; MB/s = file bytes / wall seconds of the transfer; ' +
      'CPU s = user+system seconds of the transferring process.',
  );
  console.log(
    `servers CPU s = CPU of the servers during the transfer: this ` +
      `bench process (upstream generating and serving the bytes, SQS, ` +
      `DynamoDB${opts.s3 === 'fauxqs' ? ', S3' : ''})` +
      (opts.s3 === 's3rver' ? ' + the s3rver process.' : '.'),
  );
  console.log(RSS_COVERS);
  const loadAfter = loadavg();
  console.log(
    `load average (1 min) ${loadBefore[0]?.toFixed(2) ?? '?'} before, ` +
      `${loadAfter[0]?.toFixed(2) ?? '?'} after, on ${cpus().length} ` +
      `CPUs: ` +
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
      sizesBytes: opts.sizesBytes,
      smallFiles: opts.smallFiles,
      smallFileBytes: opts.smallFileBytes,
      warmUpBytes: WARM_UP_BYTES,
      sampleIntervalMs: SAMPLE_INTERVAL_MS,
      workerSampleIntervalMs: WORKER_SAMPLE_INTERVAL_MS,
    },
    units:
      'MB = 10^6 bytes; seconds are wall time of the transfer; cpuSeconds are user+system of the transferring process',
    rssCovers: RSS_COVERS,
    rclone: 'skipped' in rcloneSetup ? { skipped: rcloneSetup.skipped } : { version: rcloneSetup.version },
    benchSeconds,
    goals,
    rows: rows.map((r) => ({ ...r, cpuSecondsPerGb: cpuPerGb(r) ?? null })),
    smallFiles: smallFiles ?? null,
  };
  await mkdir(dirname(opts.out), { recursive: true });
  await writeFile(opts.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`results written to ${relative(process.cwd(), opts.out) || opts.out}`);
  await mkdir(dirname(opts.chart), { recursive: true });
  const medians = opts.repeat > 1 ? `, medians of ${opts.repeat} runs` : '';
  await writeFile(
    opts.chart,
    drawChart(medianRows(rows), {
      title:
        `Ingest benchmark, ${result.date.slice(0, 10)}: ${cpus().length} ` +
        `CPUs, S3 ${opts.s3}, ${opts.partSizeMib} MiB parts × ${opts.concurrency}${medians}`,
    }),
  );
  console.log(`chart written to ${relative(process.cwd(), opts.chart) || opts.chart}`);
}

/**
 * The issue's three goals, judged on this run: ratios against rclone at 1 GB, and RSS growth at the
 * largest size. With --repeat, each repetition's ingest row is paired with the rclone row of the same
 * repetition (measured a few seconds apart, on the same machine state), and the goal is judged on the
 * median of those ratios; the range shows how far one run can stray.
 */
export function judgeGoals(rows: Row[]) {
  const oneGb = rows.filter((r) => r.ok && r.sizeBytes === 1e9);
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b > 0 ? a / b : null;
  const pairs = oneGb
    .filter((r) => r.path === 'ingest')
    .map((ingest) => ({ ingest, rclone: oneGb.find((r) => r.path === 'rclone' && r.run === ingest.run) }))
    .filter((p): p is { ingest: Row; rclone: Row } => p.rclone !== undefined);
  const cpuRatios = pairs
    .map((p) => ratio(cpuPerGb(p.ingest), cpuPerGb(p.rclone)))
    .filter((x): x is number => x !== null);
  const speedRatios = pairs
    .map((p) => ratio(p.ingest.mbPerSecond, p.rclone.mbPerSecond))
    .filter((x): x is number => x !== null);
  const largest = rows.filter((r) => r.ok && r.path === 'ingest').sort((a, b) => b.sizeBytes - a.sizeBytes)[0];
  const growth =
    largest?.rssPeakBytes !== undefined && typeof largest.rssBeforeBytes === 'number'
      ? largest.rssPeakBytes - largest.rssBeforeBytes
      : null;
  const cpuRatio = median(cpuRatios);
  const speedRatio = median(speedRatios);
  return {
    pairedRuns: pairs.length,
    cpuPerGbVsRclone: cpuRatio,
    cpuPerGbVsRcloneRange: range(cpuRatios),
    cpuGoalMet: cpuRatio === null ? null : cpuRatio <= 1,
    mbPerSecondVsRclone: speedRatio,
    mbPerSecondVsRcloneRange: range(speedRatios),
    speedGoalMet: speedRatio === null ? null : speedRatio >= 1,
    largestIngestBytes: largest?.sizeBytes ?? null,
    largestIngestRssGrowthBytes: growth,
    memoryGoalMet: growth === null ? null : growth <= 128 * 2 ** 20,
  };
}

/** One row per size and path: a repeated one with the median MB/s and the median CPU seconds of its runs. */
export function medianRows(rows: Row[]): Row[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows.filter((r) => r.ok)) {
    const key = `${r.sizeBytes}/${r.path}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const first = g[0] as Row;
    if (g.length === 1) return first;
    const mbPerSecond = median(g.map((r) => r.mbPerSecond).filter((x): x is number => x !== undefined)) ?? undefined;
    const cpuSeconds = median(g.map((r) => r.cpuSeconds).filter((x): x is number => x !== undefined)) ?? undefined;
    const { run: _run, ...rest } = first;
    return {
      ...rest,
      ...(mbPerSecond === undefined ? {} : { mbPerSecond }),
      ...(cpuSeconds === undefined ? {} : { cpuSeconds }),
    };
  });
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? null) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function range(xs: number[]): [number, number] | null {
  return xs.length === 0 ? null : [Math.min(...xs), Math.max(...xs)];
}

function describeGoals(g: ReturnType<typeof judgeGoals>): string[] {
  const verdict = (met: boolean | null) => (met === null ? 'not measured' : met ? 'met' : 'NOT met');
  const of = (r: [number, number] | null) =>
    g.pairedRuns > 1 && r
      ? ` (median of ${g.pairedRuns} paired runs, range ${r[0].toFixed(2)}-${r[1].toFixed(2)})`
      : '';
  return [
    `goal, CPU s/GB of ingest <= rclone's at 1 GB: ${g.cpuPerGbVsRclone?.toFixed(2) ?? '-'} ` +
      `× rclone's${of(g.cpuPerGbVsRcloneRange)}, ${verdict(g.cpuGoalMet)}`,
    `goal, MB/s of ingest >= rclone's at 1 GB: ${g.mbPerSecondVsRclone?.toFixed(2) ?? '-'} ` +
      `× rclone's${of(g.mbPerSecondVsRcloneRange)}, ${verdict(g.speedGoalMet)}`,
    `goal, ingest peak RSS growth <= 128 MiB at the largest size ` +
      `(${g.largestIngestBytes === null ? '-' : formatSize(g.largestIngestBytes)}): ` +
      `${g.largestIngestRssGrowthBytes === null ? '-' : (g.largestIngestRssGrowthBytes / 2 ** 20).toFixed(0)} ` +
      `MiB, ${verdict(g.memoryGoalMet)}`,
  ];
}

function printSmallFiles(r: SmallFilesResult | { failed: string }): void {
  if ('failed' in r) {
    console.log(`small files FAILED: ${r.failed}`);
    return;
  }
  console.log(
    `small files: ${r.files} × ${formatSize(r.fileBytes)} in ${r.seconds.toFixed(1)} ` +
      `s = ${r.filesPerSecond.toFixed(1)} files/s; ` +
      `CPU per file ${r.cpuMsPerFile.benchProcess.toFixed(1)} ms (bench process: handler, DynamoDB, SQS, upstream)` +
      (r.cpuMsPerFile.s3rver === null ? '' : ` + ${r.cpuMsPerFile.s3rver.toFixed(1)} ms (s3rver)`),
  );
  for (const [service, ops] of Object.entries(r.requestsPerFile)) {
    const detail = Object.entries(ops)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ');
    console.log(`  ${service} requests per file: ${r.requestsPerFileTotal[service]} (${detail})`);
  }
}
