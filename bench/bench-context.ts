/**
 * What the parts of the benchmark share: its units, the names of the resources it creates, the
 * shape of a result row, the servers it runs against, and the live processes to clean up.
 */
import type { ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LocalAws } from '../local/aws/servers.js';
import type { UpstreamServer } from '../local/upstream/server.js';
import type { DynamoDbFileIndex } from '../shared/index/dynamodb-file-index.js';
import type { Options } from './options.js';
import type { WorkerMode } from './protocol.js';

/** Every figure uses decimal units: 1 MB = 10^6 bytes (sizes, throughput and memory alike). */
export const MB = 1_000_000;
export const MIB = 1024 * 1024;
export const API_KEY = 'sk-ant-api01-local-bench-key';
export const BUCKET = 'archiver-bench';
export const TABLE = 'archiver-bench-index';
export const QUEUE = 'archiver-bench-ingest';
/** The bench queue's redrive maxReceiveCount, which the ingest handler is told too. */
export const BENCH_MAX_RECEIVE_COUNT = 3;
export const WARM_UP_BYTES = 20 * MB;
/** How often the bench reads another process's RSS and CPU from /proc (rclone). */
export const SAMPLE_INTERVAL_MS = 20;
/**
 * How often a worker samples its own memory (process.memoryUsage: V8 heap and Buffers). Slower than
 * SAMPLE_INTERVAL_MS because the call costs the worker CPU that is counted against it (about 1 ms a
 * call on a busy machine: 0.05 CPU s per GB at 20 ms); its peak RSS comes from the kernel's VmHWM.
 */
export const WORKER_SAMPLE_INTERVAL_MS = 250;

/** The ways one file is copied, each a row of the report. */
export type PathName = WorkerMode | 'rclone';
/** Every path, in the order files are registered for them (a path's index names its warm-up file). */
export const ALL_PATHS: readonly PathName[] = ['ingest', 'baseline', 'baseline-sdk', 'rclone'];

export interface Row {
  sizeBytes: number;
  path: PathName;
  /** Which repetition of its size (1..--repeat); each repetition is a fresh file of that size. */
  run?: number;
  ok: boolean;
  error?: string;
  seconds?: number;
  mbPerSecond?: number;
  cpuSeconds?: number;
  /** Node rows: garbage collections in the worker during the transfer, and their total time. */
  gcCount?: number;
  gcMs?: number;
  gcMajorCount?: number;
  gcMajorMs?: number;
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

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = dirname(benchDir);

/** The servers and settings every measurement runs against. */
export interface BenchContext {
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

/** Live resources, so that a signal or a failure can clean them up. */
export const live = { children: new Set<ChildProcess>(), cleanups: [] as (() => Promise<void>)[] };

export async function cleanUp(): Promise<void> {
  for (const child of live.children) child.kill('SIGKILL');
  live.children.clear();
  for (const fn of live.cleanups.splice(0).reverse()) {
    await fn().catch((err: unknown) => console.error('cleanup failed:', err));
  }
}

/** Allowed time for one transfer: generous, so only a hang trips it. */
export function timeoutMsFor(sizeBytes: number): number {
  return 60_000 + (sizeBytes / (2 * MB)) * 1000;
}
