/** CPU the servers spend during one transfer: this process (which hosts most of them) and s3rver. */
import { readCpuSeconds } from './memory.js';
import type { BenchContext, Row } from './bench-context.js';

export interface CpuSnapshot {
  bench: NodeJS.CpuUsage;
  s3rver: number | undefined;
}

export function cpuSnapshot(ctx: BenchContext): CpuSnapshot {
  return { bench: process.cpuUsage(), s3rver: ctx.s3rverPid === undefined ? undefined : readCpuSeconds(ctx.s3rverPid) };
}

export function serverCpuBetween(
  from: CpuSnapshot | undefined,
  to: CpuSnapshot | undefined,
): Row['serverCpuSeconds'] | undefined {
  if (!from || !to) return undefined;
  const bench = (to.bench.user - from.bench.user + to.bench.system - from.bench.system) / 1e6;
  const s3rver = from.s3rver !== undefined && to.s3rver !== undefined ? to.s3rver - from.s3rver : null;
  return { benchProcess: bench, s3rver };
}
