/** The benchmark's command line. */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LocalS3Server } from '../local/aws/servers.js';
import { benchDir } from './bench-context.js';

/** fauxqs answers 413 to any request body over 11 MiB. */
const FAUXQS_MAX_PART_MIB = 10;

export interface Options {
  sizesMb: number[];
  s3: LocalS3Server;
  partSizeMib: number;
  concurrency: number;
  rclone: boolean;
  sdkBaseline: boolean;
  out: string;
}

/** A bad command line: printed with the usage, without a stack. */
export class UsageError extends Error {}

export function parseOptions(argv: string[]): Options | 'help' {
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

export const USAGE = `Usage: npm run bench -- [options]
  --sizes LIST          file sizes in MB (10^6 bytes), comma separated   (default 10,100,1000)
  --s3 SERVER           s3rver (on disk, own process) or fauxqs (in memory) (default s3rver)
  --part-size-mib N     multipart part size for all paths, 5..64          (default 8; fauxqs: <= 10)
  --concurrency N       parts in flight for all paths, 1..16              (default 4)
  --skip-rclone         do not run rclone copyurl even if rclone is installed
  --skip-sdk-baseline   do not run the baseline with the SDK's default payload signing
  --out FILE            JSON results                                      (default bench/results/latest.json)`;
