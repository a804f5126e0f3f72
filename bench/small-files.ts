/**
 * The many-small-files regime, through the local stack as `npm start` runs it: the real ingest
 * handler (createIngestRuntime) fed by the local SQS event source (batches of 5, 2 pollers, as
 * local/start.ts configures it) in this one process, against the same servers as the other rows.
 * Every job is queued before the clock starts; the clock stops when the last file is archived.
 *
 * Requests are counted on the wire from inside this process (node:http's diagnostics channel, which
 * the SDK's HTTP handler goes through), by server and operation. The servers answer from this
 * process or its s3rver child and make no client requests of their own, so during the run every
 * counted request is the pipeline's.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createIngestRuntime } from '../lambdas/ingest/runtime.js';
import { createSqsClient } from '../shared/platform/aws-clients.js';
import { IngestConfigSchema, loadConfig } from '../shared/contracts/lambda-environment.js';
import { serializeJob } from '../shared/contracts/job.js';
import { noCounters } from '../shared/platform/telemetry.js';
import type { Log } from '../shared/platform/telemetry.js';
import { startSqsEventSource } from '../local/sqs-event-source.js';
import { API_KEY, BENCH_MAX_RECEIVE_COUNT, BUCKET, TABLE, type BenchContext } from './bench-context.js';
import { readCpuSeconds } from './memory.js';

/** As local/start.ts runs the event source. */
const BATCH_SIZE = 5;
const POLLERS = 2;

export interface SmallFilesResult {
  files: number;
  fileBytes: number;
  seconds: number;
  filesPerSecond: number;
  /** CPU of this process (handler, DynamoDB, SQS, upstream) and of s3rver, per file, in ms. */
  cpuMsPerFile: { benchProcess: number; s3rver: number | null };
  /** Requests per file, by service and operation; SQS includes the event source's polling. */
  requestsPerFile: Record<string, Record<string, number>>;
  requestsPerFileTotal: Record<string, number>;
  archived: number;
}

export async function runSmallFiles(
  ctx: BenchContext,
  count: number,
  fileBytes: number,
  seed: number,
): Promise<SmallFilesResult> {
  const ids = Array.from({ length: count }, (_, i) => `claude_gen_file_benchsmall${seed}n${i}`);
  for (const [i, id] of ids.entries()) {
    await ctx.upstream.addFile({
      source: 'generated',
      id,
      chatId: `claude_chat_benchsmall${seed}c${i % 50}`,
      filename: `small-${i}.bin`,
      mimeType: 'application/octet-stream',
      content: { size: fileBytes, seed: seed * 100_000 + i },
    });
  }
  const sqs = createSqsClient({ endpoint: ctx.aws.sqsEndpoint });
  for (let i = 0; i < ids.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: ctx.queues.queueUrl,
        Entries: ids.slice(i, i + 10).map((fileId, j) => ({ Id: String(j), MessageBody: serializeJob({ fileId }) })),
      }),
    );
  }

  let archived = 0;
  let failed = 0;
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const log: Log = {
    debug() {},
    info(message) {
      if (message === 'archived') archived += 1;
      if (archived + failed >= count) allDone();
    },
    warn() {},
    error() {
      failed += 1;
    },
  };
  const handler = createIngestRuntime(
    loadConfig(IngestConfigSchema, {
      ARCHIVE_BUCKET: BUCKET,
      INDEX_TABLE: TABLE,
      INGEST_QUEUE_URL: ctx.queues.queueUrl,
      DEAD_LETTER_QUEUE_URL: ctx.queues.dlqUrl,
      MAX_RECEIVE_COUNT: String(BENCH_MAX_RECEIVE_COUNT),
      ANTHROPIC_BASE_URL: ctx.upstream.url,
      ANTHROPIC_API_KEY: API_KEY,
      PART_SIZE_MIB: String(ctx.opts.partSizeMib),
      UPLOAD_CONCURRENCY: String(ctx.opts.concurrency),
      LOCAL_S3_ENDPOINT: ctx.aws.s3Endpoint,
      LOCAL_SQS_ENDPOINT: ctx.aws.sqsEndpoint,
      LOCAL_DYNAMODB_ENDPOINT: ctx.aws.dynamodbEndpoint,
    }),
    { apiKey: API_KEY, log, counters: noCounters },
  );

  const counter = countRequests({
    s3: ctx.aws.s3Endpoint,
    dynamodb: ctx.aws.dynamodbEndpoint,
    sqs: ctx.aws.sqsEndpoint,
  });
  const cpu0 = process.cpuUsage();
  const s3rver0 = ctx.s3rverPid === undefined ? undefined : readCpuSeconds(ctx.s3rverPid);
  const t0 = performance.now();
  const source = startSqsEventSource({
    sqs,
    queueUrl: ctx.queues.queueUrl,
    handler,
    batchSize: BATCH_SIZE,
    concurrency: POLLERS,
    functionTimeoutSeconds: 900,
  });
  const timeout = setTimeout(allDone, 600_000);
  await done;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const s3rver1 = ctx.s3rverPid === undefined ? undefined : readCpuSeconds(ctx.s3rverPid);
  clearTimeout(timeout);
  counter.stop();
  await source.stop();
  sqs.destroy();
  if (archived < count) throw new Error(`small files: ${archived} of ${count} archived (${failed} errors logged)`);

  const perFile = (n: number) => Math.round((n / count) * 1000) / 1000;
  const requestsPerFile: SmallFilesResult['requestsPerFile'] = {};
  const requestsPerFileTotal: Record<string, number> = {};
  for (const [service, ops] of Object.entries(counter.counts)) {
    requestsPerFile[service] = Object.fromEntries(Object.entries(ops).map(([op, n]) => [op, perFile(n)]));
    requestsPerFileTotal[service] = perFile(Object.values(ops).reduce((a, b) => a + b, 0));
  }
  return {
    files: count,
    fileBytes,
    seconds,
    filesPerSecond: count / seconds,
    cpuMsPerFile: {
      benchProcess: (cpu.user + cpu.system) / 1000 / count,
      s3rver: s3rver0 !== undefined && s3rver1 !== undefined ? ((s3rver1 - s3rver0) * 1000) / count : null,
    },
    requestsPerFile,
    requestsPerFileTotal,
    archived,
  };
}

/** Counts node:http client requests by server (matched on host:port) and operation until stopped. */
function countRequests(endpoints: Record<string, string>): {
  counts: Record<string, Record<string, number>>;
  stop(): void;
} {
  const byHost = new Map(Object.entries(endpoints).map(([service, url]) => [new URL(url).host, service]));
  const counts: Record<string, Record<string, number>> = {};
  const onStart = (message: unknown): void => {
    const request = (message as { request?: ClientRequest }).request;
    if (!request) return;
    const service = byHost.get(String(request.getHeader('host'))) ?? 'other';
    const op =
      service === 's3'
        ? s3Operation(request.method, request.path)
        : String(request.getHeader('x-amz-target') ?? request.method).replace(/^.*\./, '');
    const ops = (counts[service] ??= {});
    ops[op] = (ops[op] ?? 0) + 1;
  };
  subscribe('http.client.request.start', onStart);
  return { counts, stop: () => unsubscribe('http.client.request.start', onStart) };
}

/** An S3 REST request's operation, from its method and query (path-style addressing). */
function s3Operation(method: string, path: string): string {
  const query = new URLSearchParams(path.split('?')[1] ?? '');
  if (method === 'PUT') return query.has('partNumber') ? 'UploadPart' : 'PutObject';
  if (method === 'POST')
    return query.has('uploads') ? 'CreateMultipartUpload' : query.has('uploadId') ? 'CompleteMultipartUpload' : 'POST';
  if (method === 'GET') return query.has('list-type') ? 'ListObjectsV2' : 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  return method;
}
