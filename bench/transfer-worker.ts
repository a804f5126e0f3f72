/**
 * One measured transfer, in a process of its own so that its memory is the archiver's alone: the
 * upstream, SQS, DynamoDB and S3 servers all run in other processes. Forked by bench/worker-runner.ts,
 * which sends one task over IPC; this process runs a warm-up file through the same path, then the
 * measured file, replies with the figures and exits.
 *
 * What is timed (and what the memory figures cover):
 * - ingest: one invocation of the real ingest handler (createIngestRuntime, as the Lambda builds it)
 *   on an SQS record received from the queue: claim in DynamoDB, metadata from upstream, content
 *   streamed through MD5 + SHA-256 + byte counting into a multipart upload, verified, completed,
 *   indexed. Sending and receiving the SQS message happen before the clock starts.
 * - baseline / baseline-sdk: GET of the same content from the same upstream, streamed into a plain
 *   multipart upload of the same part size and concurrency; see protocol.ts for the difference.
 */
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { createIngestRuntime } from '../lambdas/ingest/runtime.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../shared/platform/local-account.js';
import { createLambdaContext, toSqsRecord } from '../local/lambda-sqs-shapes.js';
import { objectKeyFor } from '../shared/contracts/object-keys.js';
import { choosePartSize } from '../shared/archive/verified-writer.js';
import { createS3Client, createSqsClient } from '../shared/platform/aws-clients.js';
import { IngestConfigSchema, loadConfig } from '../shared/contracts/lambda-environment.js';
import { serializeJob } from '../shared/contracts/job.js';
import { noCounters } from '../shared/platform/telemetry.js';
import type { Log } from '../shared/platform/telemetry.js';
import { ANTHROPIC_VERSION, createUpstreamAgent, metadataPath } from '../shared/upstream/upstream-client.js';
import { readStatusBytes, resetPeakRss, sampleOwnMemory } from './memory.js';
import { WorkerTaskSchema } from './protocol.js';
import type { WorkerMark, WorkerResult, WorkerTask } from './protocol.js';

const MIB = 1024 * 1024;
/** The deployed function's timeout; the handler's deadline counts down from it. */
const FUNCTION_TIMEOUT_MS = 900_000;

interface FileRef {
  fileId: string;
  chatId: string;
  sizeBytes: number;
}

/** Runs `fn` as the measured section (the worker passes a pass-through for the warm-up). */
type Timed = <T>(fn: () => Promise<T>) => Promise<T>;

type Transfer = (file: FileRef, timed: Timed) => Promise<{ key: string; bytes: number }>;

interface Measurement {
  seconds: number;
  gc: { count: number; ms: number; majorCount: number; majorMs: number };
  cpuSeconds: number;
  rssBeforeBytes: number;
  rssHwmBytes: number | null;
  peak: ReturnType<ReturnType<typeof sampleOwnMemory>['stop']>;
}

/** Tells the benchmark the measured section starts or ends (it reads the servers' CPU then). */
function mark(phase: WorkerMark['phase']): void {
  const message: WorkerMark = { type: 'mark', phase };
  process.send?.(message);
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

async function run(task: WorkerTask): Promise<WorkerResult> {
  const transfer = task.mode === 'ingest' ? ingestTransfer(task) : baselineTransfer(task);

  await transfer(task.warmUp, (fn) => fn());

  let measured: Measurement | undefined;
  const timed: Timed = async (fn) => {
    collectGarbage();
    const rssBeforeBytes = process.memoryUsage.rss();
    const hwmReset = resetPeakRss();
    const sampler = sampleOwnMemory(task.sampleIntervalMs);
    const gc = { count: 0, ms: 0, majorCount: 0, majorMs: 0 };
    const countGc = (entries: PerformanceEntry[]): void => {
      for (const entry of entries) {
        gc.count += 1;
        gc.ms += entry.duration;
        const kind = ((entry as { detail?: unknown }).detail as { kind?: number } | null | undefined)?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
          gc.majorCount += 1;
          gc.majorMs += entry.duration;
        }
      }
    };
    const gcObserver = new PerformanceObserver((list) => countGc(list.getEntries()));
    gcObserver.observe({ entryTypes: ['gc'] });
    mark('start');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      mark('end');
      countGc(gcObserver.takeRecords());
      gcObserver.disconnect();
      const peak = sampler.stop();
      const hwm = hwmReset ? readStatusBytes('self', 'VmHWM') : undefined;
      measured = {
        seconds,
        gc,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        rssBeforeBytes,
        rssHwmBytes: hwm ?? null,
        peak,
      };
    }
  };
  const { key, bytes } = await transfer(task.file, timed);
  if (!measured) throw new Error('the transfer never entered its measured section');
  const m: Measurement = measured;
  return {
    type: 'result',
    ok: true,
    key,
    bytes,
    seconds: m.seconds,
    cpuSeconds: m.cpuSeconds,
    gcCount: m.gc.count,
    gcMs: m.gc.ms,
    gcMajorCount: m.gc.majorCount,
    gcMajorMs: m.gc.majorMs,
    rssBeforeBytes: m.rssBeforeBytes,
    rssPeakBytes: Math.max(m.peak.rssBytes, m.rssHwmBytes ?? 0),
    rssPeakSampledBytes: m.peak.rssBytes,
    rssHwmBytes: m.rssHwmBytes,
    arrayBuffersPeakBytes: m.peak.arrayBuffersBytes,
    heapUsedPeakBytes: m.peak.heapUsedBytes,
    samples: m.peak.samples,
  };
}

/** The real handler, built as the Lambda builds it, driven by a real SQS message. */
function ingestTransfer(task: WorkerTask): Transfer {
  const problems: string[] = [];
  const keep =
    (level: string) =>
    (message: string, attributes: Record<string, unknown> = {}) => {
      problems.push(`${level}: ${message} ${JSON.stringify(attributes)}`);
    };
  const log: Log = { debug() {}, info() {}, warn: keep('warn'), error: keep('error') };
  const config = loadConfig(IngestConfigSchema, {
    ARCHIVE_BUCKET: task.bucket,
    INDEX_TABLE: task.table,
    INGEST_QUEUE_URL: task.queueUrl,
    DEAD_LETTER_QUEUE_URL: task.deadLetterQueueUrl,
    MAX_RECEIVE_COUNT: String(task.maxReceiveCount),
    ANTHROPIC_BASE_URL: task.upstreamUrl,
    ANTHROPIC_API_KEY: task.apiKey,
    PART_SIZE_MIB: String(task.partSizeMib),
    UPLOAD_CONCURRENCY: String(task.concurrency),
    LOCAL_S3_ENDPOINT: task.s3Endpoint,
    LOCAL_SQS_ENDPOINT: task.sqsEndpoint,
    LOCAL_DYNAMODB_ENDPOINT: task.dynamodbEndpoint,
  });
  const handler = createIngestRuntime(config, { apiKey: task.apiKey, log, counters: noCounters });
  const sqs = createSqsClient({ endpoint: task.sqsEndpoint });
  const queueName = new URL(task.queueUrl).pathname.split('/').pop() ?? 'ingest';
  const eventSourceArn = `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${queueName}`;

  return async (file, timed) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: task.queueUrl,
        MessageBody: serializeJob({ fileId: file.fileId, chatId: file.chatId }),
      }),
    );
    const message = await receiveOne(sqs, task.queueUrl);
    const record = toSqsRecord(message, eventSourceArn, LOCAL_REGION);
    problems.length = 0;
    const response = await timed(() =>
      handler(
        { Records: [record] },
        createLambdaContext({
          functionName: 'archiver-ingest-bench',
          region: LOCAL_REGION,
          timeoutMs: FUNCTION_TIMEOUT_MS,
        }),
      ),
    );
    if (response.batchItemFailures.length > 0) {
      throw new Error(`the ingest handler failed the record: ${problems.join(' | ') || '(no log)'}`);
    }
    await sqs.send(new DeleteMessageCommand({ QueueUrl: task.queueUrl, ReceiptHandle: record.receiptHandle }));
    return { key: objectKeyFor('generated', file.fileId), bytes: file.sizeBytes };
  };
}

async function receiveOne(sqs: SQSClient, queueUrl: string): Promise<Message> {
  for (let i = 0; i < 20; i++) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const message = res.Messages?.[0];
    if (message) return message;
  }
  throw new Error('the job message never arrived');
}

/** GET from upstream, plain multipart upload into S3: no hashing, no verification. */
function baselineTransfer(task: WorkerTask): Transfer {
  const s3 = createS3Client({ endpoint: task.s3Endpoint });
  if (task.mode === 'baseline') skipPayloadSigning(s3);
  const agent = createUpstreamAgent();
  const base = task.upstreamUrl.replace(/\/$/, '');

  return async (file, timed) => {
    const key = `bench/${task.mode}/${file.fileId}`;
    const partBytes = choosePartSize(file.sizeBytes, task.partSizeMib * MIB);
    const bytes = await timed(async () => {
      const res = await request(`${base}${metadataPath(file.fileId, 'generated')}/content`, {
        method: 'GET',
        headers: { 'x-api-key': task.apiKey, 'anthropic-version': ANTHROPIC_VERSION },
        dispatcher: agent,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`upstream answered ${res.statusCode} for ${file.fileId}`);
      }
      return plainMultipartCopy(s3, task.bucket, key, res.body, partBytes, task.concurrency);
    });
    return { key, bytes };
  };
}

/**
 * Sends `x-amz-content-sha256: UNSIGNED-PAYLOAD`, which stops the SigV4 signer from hashing each
 * request body (it hashes Buffer bodies otherwise). Both local S3 servers accept it; so does S3.
 */
function skipPayloadSigning(s3: S3Client): void {
  s3.middlewareStack.add(
    (next) => async (args) => {
      const req: unknown = args.request;
      if (
        typeof req === 'object' &&
        req !== null &&
        'headers' in req &&
        typeof req.headers === 'object' &&
        req.headers !== null
      ) {
        (req.headers as Record<string, string>)['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'benchUnsignedPayload' },
  );
}

/**
 * Streams `body` into a multipart upload: each part filled in its own buffer (every byte copied
 * once, as the archive writer's Buffer.concat does), at most `concurrency` parts in flight.
 */
async function plainMultipartCopy(
  s3: S3Client,
  bucket: string,
  key: string,
  body: AsyncIterable<Uint8Array>,
  partBytes: number,
  concurrency: number,
): Promise<number> {
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error('S3 returned no UploadId');
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let partNumber = 0;

  const sendPart = async (bytes: Buffer): Promise<void> => {
    partNumber += 1;
    const n = partNumber;
    const sent = s3
      .send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: n,
          Body: bytes,
          ContentLength: bytes.byteLength,
        }),
      )
      .then(
        (res) => {
          parts[n - 1] = { PartNumber: n, ETag: res.ETag };
        },
        (error: unknown) => {
          failure ??= { error };
        },
      );
    const tracked = sent.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) throw failure.error;
  };

  try {
    let total = 0;
    let buffer = Buffer.allocUnsafe(partBytes);
    let filled = 0;
    for await (const chunk of body) {
      total += chunk.byteLength;
      let offset = 0;
      while (offset < chunk.byteLength) {
        const n = Math.min(chunk.byteLength - offset, partBytes - filled);
        buffer.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === partBytes) {
          await sendPart(buffer);
          buffer = Buffer.allocUnsafe(partBytes);
          filled = 0;
        }
      }
    }
    if (filled > 0 || partNumber === 0) await sendPart(buffer.subarray(0, filled));
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return total;
  } catch (err) {
    await Promise.allSettled(inFlight);
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
    throw err;
  }
}

function main(): void {
  const send = process.send?.bind(process);
  if (!send) {
    console.error('transfer-worker is started by bench/ingest-throughput.ts (it needs an IPC channel)');
    process.exit(2);
  }
  // The benchmark went away: nothing left to report to.
  process.on('disconnect', () => process.exit(1));
  process.once('message', (message: unknown) => {
    const parsed = WorkerTaskSchema.safeParse(message);
    const finish = (result: WorkerResult): void => {
      send(result, undefined, {}, () => process.exit(0));
    };
    if (!parsed.success) {
      finish({ type: 'result', ok: false, error: `bad task: ${parsed.error.message}` });
      return;
    }
    run(parsed.data).then(finish, (err: unknown) =>
      finish({ type: 'result', ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
}

main();
