/** The benchmark's command line. */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LocalS3Server } from '../local/aws/servers.js';
import { benchDir } from './bench-context.js';

/** fauxqs answers 413 to any request body over 11 MiB. */
const FAUXQS_MAX_PART_MIB = 10;

export interface Options {
  /** File sizes in bytes, in the order given. */
  sizesBytes: number[];
  s3: LocalS3Server;
  partSizeMib: number;
  concurrency: number;
  rclone: boolean;
  sdkBaseline: boolean;
  out: string;
  /** SVG chart of MB/s and CPU s per GB, drawn from the results. */
  chart: string;
  /** Files of the small-files run (0: none) and their size in bytes. */
  smallFiles: number;
  smallFileBytes: number;
  /** Directory for V8 CPU profiles of each measured worker (`--cpu-prof`); undefined: no profiling. */
  profileDir: string | undefined;
  /** How many times each size up to 2 GB runs (every path, a fresh file each time); the goals take the median. */
  repeat: number;
}

const DEFAULT_SIZES = '10,100,1000,5GiB';
const GIB = 1024 ** 3;

/** "100" is 100 MB (10^6 bytes); "5GiB" is 5 × 2^30 bytes. */
function parseSize(text: string): number {
  const gib = /^(\d+(?:\.\d+)?)\s*GiB$/i.exec(text);
  if (gib) return Number(gib[1]) * GIB;
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1e6 : NaN;
}

/** A bad command line: printed with the usage, without a stack. */
export class UsageError extends Error {}

export function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: DEFAULT_SIZES },
      s3: { type: 'string', default: 's3rver' },
      'part-size-mib': { type: 'string', default: '8' },
      concurrency: { type: 'string', default: '4' },
      'skip-rclone': { type: 'boolean', default: false },
      'skip-sdk-baseline': { type: 'boolean', default: false },
      out: { type: 'string', default: join(benchDir, 'results', 'latest.json') },
      chart: { type: 'string' },
      'small-files': { type: 'string', default: '1000' },
      'small-file-kb': { type: 'string', default: '50' },
      'cpu-prof-dir': { type: 'string' },
      repeat: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const sizesBytes = values.sizes.split(',').map((s) => parseSize(s.trim()));
  if (sizesBytes.length === 0 || sizesBytes.some((n) => !Number.isFinite(n) || n <= 0 || n > 50e9)) {
    throw new UsageError(
      '--sizes takes sizes in MB (10^6 bytes) or GiB (suffix GiB), comma separated, e.g. 10,100,1000,5GiB',
    );
  }
  const smallFiles = Number(values['small-files']);
  if (!Number.isInteger(smallFiles) || smallFiles < 0 || smallFiles > 100_000)
    throw new UsageError('--small-files is 0..100000');
  const smallFileKb = Number(values['small-file-kb']);
  if (!Number.isFinite(smallFileKb) || smallFileKb <= 0 || smallFileKb > 5000)
    throw new UsageError('--small-file-kb is a size in KB (10^3 bytes), up to 5000');
  if (values.s3 !== 's3rver' && values.s3 !== 'fauxqs') throw new UsageError('--s3 is s3rver or fauxqs');
  const partSizeMib = Number(values['part-size-mib']);
  if (!Number.isInteger(partSizeMib) || partSizeMib < 5 || partSizeMib > 64)
    throw new UsageError('--part-size-mib is 5..64');
  if (values.s3 === 'fauxqs' && partSizeMib > FAUXQS_MAX_PART_MIB) {
    throw new UsageError(
      `fauxqs rejects request bodies over 11 MiB: use --part-size-mib ${FAUXQS_MAX_PART_MIB} or less`,
    );
  }
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 10) throw new UsageError('--repeat is 1..10');
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16)
    throw new UsageError('--concurrency is 1..16');
  return {
    sizesBytes: sizesBytes.map((n) => Math.round(n)),
    s3: values.s3,
    partSizeMib,
    concurrency,
    rclone: !values['skip-rclone'],
    sdkBaseline: !values['skip-sdk-baseline'],
    out: values.out,
    chart: values.chart ?? `${values.out.replace(/\.json$/, '')}.svg`,
    smallFiles,
    smallFileBytes: Math.round(smallFileKb * 1000),
    profileDir: values['cpu-prof-dir'],
    repeat,
  };
}

export const USAGE = `Usage: npm run bench -- [options]
  --sizes LIST          file sizes in MB (10^6 bytes) or with a GiB suffix, comma separated
                        (default ${DEFAULT_SIZES}; above 2 GB only ingest and rclone run)
  --s3 SERVER           s3rver (on disk, own process) or fauxqs (in memory) (default s3rver)
  --part-size-mib N     multipart part size for all paths, 5..64          (default 8; fauxqs: <= 10)
  --concurrency N       parts in flight for all paths, 1..16              (default 4)
  --skip-rclone         do not run rclone copyurl even if rclone is installed
  --skip-sdk-baseline   do not run the baseline with the SDK's default payload signing
  --small-files N       files of the many-small-files run, 0 to skip      (default 1000)
  --small-file-kb N     their size in KB (10^3 bytes)                     (default 50)
  --out FILE            JSON results                                      (default bench/results/latest.json)
  --chart FILE          SVG chart of the rows                             (default: --out with .svg)
  --cpu-prof-dir DIR    write a V8 CPU profile of each worker there (open in Chrome DevTools)
  --repeat N            run each size up to 2 GB N times, every path each time, a fresh file each
                        time; the goals are judged on the median of the N paired ratios (default 1)`;
