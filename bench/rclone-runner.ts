/** rclone copyurl, as a point of comparison: the same bytes, part size and concurrency, in Go. */
import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LocalAws, LocalS3Server } from '../local/aws/servers.js';
import { choosePartSize } from '../shared/archive/verified-writer.js';
import { ANTHROPIC_VERSION, metadataPath } from '../shared/upstream/upstream-client.js';
import {
  API_KEY,
  BUCKET,
  MB,
  MIB,
  SAMPLE_INTERVAL_MS,
  live,
  timeoutMsFor,
  type BenchContext,
  type Row,
} from './bench-context.js';
import { sampleProcess } from './memory.js';
import { cpuSnapshot, serverCpuBetween } from './server-cpu.js';

export type RcloneSetup = { version: string; config: string } | { skipped: string };

/** Finds rclone and writes its config for this S3 server, or says why rclone cannot run. */
export async function prepareRclone(tmp: string, aws: LocalAws, server: LocalS3Server): Promise<RcloneSetup> {
  const probe = spawnSync('rclone', ['version'], { encoding: 'utf8', env: rcloneEnv() });
  if (probe.error || probe.status !== 0) return { skipped: 'rclone is not on PATH' };
  if (server === 'fauxqs') {
    // Go's XML encoder writes the quotes of each ETag as &#34;, which fauxqs (1.9.2 and 2.4.1) does not decode:
    // every CompleteMultipartUpload from rclone fails with InvalidPart.
    return {
      skipped:
        'fauxqs cannot complete rclone multipart uploads (InvalidPart: ' +
        'it does not decode &#34; in ETags); use --s3 s3rver',
    };
  }
  const version = probe.stdout.split('\n')[0]?.trim() ?? 'rclone';
  const config = join(tmp, 'rclone.conf');
  await writeFile(
    config,
    [
      '[bench]',
      'type = s3',
      'provider = Other',
      // s3rver accepts only this access key; fauxqs accepts any.
      'access_key_id = S3RVER',
      'secret_access_key = S3RVER',
      'region = us-east-1',
      `endpoint = ${aws.s3Endpoint}`,
      'force_path_style = true',
      '',
    ].join('\n'),
  );
  return { version, config };
}

/** rclone is a Go program: it does not accept the AWS_CA_BUNDLE the JS SDK tolerates. */
function rcloneEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.AWS_CA_BUNDLE;
  for (const name of Object.keys(env)) if (name.startsWith('RCLONE_')) delete env[name];
  return env;
}

/** `rclone copyurl` from the upstream's content URL to the same bucket, with the same part size and concurrency. */
export async function runRclone(
  ctx: BenchContext,
  config: string,
  fileId: string,
  key: string,
  sizeBytes: number,
): Promise<Row> {
  const url = `${ctx.upstream.url}${metadataPath(fileId, 'generated')}/content`;
  const partMib = choosePartSize(sizeBytes, ctx.opts.partSizeMib * MIB) / MIB;
  const args = [
    'copyurl',
    url,
    `bench:${BUCKET}/${key}`,
    '--config',
    config,
    '--header',
    `x-api-key: ${API_KEY}`,
    '--header',
    `anthropic-version: ${ANTHROPIC_VERSION}`,
    '--s3-chunk-size',
    `${partMib}Mi`,
    '--s3-upload-concurrency',
    String(ctx.opts.concurrency),
    '--s3-no-check-bucket',
    '--retries',
    '1',
    '--low-level-retries',
    '1',
    '--stats',
    '0',
  ];
  const cpuAtStart = cpuSnapshot(ctx);
  const started = performance.now();
  const child = spawn('rclone', args, { env: rcloneEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  live.children.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const pid = child.pid;
  const sampler = pid === undefined ? undefined : sampleProcess(pid, SAMPLE_INTERVAL_MS);
  const timeoutMs = timeoutMsFor(sizeBytes);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`rclone did not finish within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      // 'exit' rather than 'close': the process is gone, /proc sampling has its last readings.
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    const seconds = (performance.now() - started) / 1000;
    const serverCpuSeconds = serverCpuBetween(cpuAtStart, cpuSnapshot(ctx));
    const usage = sampler?.stop();
    if (code !== 0) return { sizeBytes, path: 'rclone', ok: false, error: `rclone exited ${code}: ${stderr.trim()}` };
    return {
      sizeBytes,
      path: 'rclone',
      ok: true,
      seconds,
      mbPerSecond: sizeBytes / MB / seconds,
      ...(usage?.cpuSeconds === undefined ? {} : { cpuSeconds: usage.cpuSeconds }),
      rssBeforeBytes: null,
      ...(usage?.peakRssBytes === undefined
        ? {}
        : { rssPeakBytes: usage.peakRssBytes, rssHwmBytes: usage.peakRssBytes }),
      ...(serverCpuSeconds ? { serverCpuSeconds } : {}),
    };
  } finally {
    sampler?.stop();
    live.children.delete(child);
  }
}
