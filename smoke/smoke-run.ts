/**
 * The smoke test's steps, in order; the first that fails ends the run:
 *   1. send job        one ingest job for the file to the stack's queue
 *   2. wait for record  poll GET /files/{id} until the record is final (archived, or a failure)
 *   3. record hashes    the archived record carries MD5, SHA-256, size (and a version id when deployed)
 *   4. download         GET /files/{id}/content answers 302; the presigned URL answers 200
 *   5. verify download  SHA-256 (and MD5, size) of the downloaded bytes equal the record's
 * Each step reports PASS or FAIL with what it saw.
 */
import { createHash } from 'node:crypto';
import { request } from 'undici';
import { z } from 'zod';
import { parseJob, serializeJob } from '../shared/contracts/job.js';
import type { LookupApi } from '../shared/platform/signed-lookup.js';
import type { SmokeTarget } from './smoke-target.js';

export interface SmokeOptions {
  fileId: string;
  chatId?: string | undefined;
  /** Expected SHA-256 of the file (hex), when the operator knows it. */
  sha256?: string | undefined;
  timeoutMs: number;
  pollMs: number;
  now?: () => number;
}

export type StepReporter = (step: string, ok: boolean, detail: string) => void;

class StepFailed extends Error {}

const CLOCK_SKEW_MS = 2_000;

const ArchivedRecordSchema = z.looseObject({
  status: z.literal('archived'),
  fileId: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  md5: z.string().regex(/^[0-9a-f]{32}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  versionId: z.string().min(1).nullable(),
  archivedAt: z.string(),
});
type ArchivedRecordJson = z.infer<typeof ArchivedRecordSchema>;

const StatusSchema = z.looseObject({ status: z.string() });

/** Runs every step; resolves with whether all passed. Never throws: a failure is a FAIL line. */
export async function runSmoke(target: SmokeTarget, opts: SmokeOptions, report: StepReporter): Promise<boolean> {
  const now = opts.now ?? Date.now;
  let step = 'send job';
  const pass = (detail: string): void => report(step, true, detail);
  try {
    const body = serializeJob({ fileId: opts.fileId, ...(opts.chatId ? { chatId: opts.chatId } : {}) });
    const parsed = parseJob(body);
    if (!parsed.ok) throw new StepFailed(parsed.reason);
    const sentAt = now();
    const messageId = await target.sendJob(body);
    pass(`${opts.fileId} (message ${messageId})`);

    step = 'wait for record';
    const raw = await waitForFinalRecord(target.lookup, opts, now);
    const record = ArchivedRecordSchema.safeParse(raw);
    if (!record.success) throw new StepFailed(describeNotArchived(raw));
    // A file archived before this run (an earlier smoke test, discovery) is acknowledged at once, so
    // its record says nothing about the ingest path just deployed: a deployed run fails on it. The
    // local stack archives its sample files as soon as it starts, so there it is acknowledged and the
    // rest of the run still checks the stored copy. Two seconds allow for this machine's clock.
    const archivedAt = Date.parse(record.data.archivedAt);
    const archivedNow = Number.isFinite(archivedAt) && archivedAt >= sentAt - CLOCK_SKEW_MS;
    if (!archivedNow && target.kind === 'deployed')
      throw new StepFailed(
        `the file was archived earlier, at ${record.data.archivedAt}, ` +
          `before this job was sent: the run would not exercise ingest; ` +
          `smoke-test a file this stack has not archived yet`,
      );
    pass(
      archivedNow
        ? `archived at ${record.data.archivedAt}, ${((now() - sentAt) / 1000).toFixed(1)} s after the job was sent`
        : `archived earlier, at ${record.data.archivedAt}: the job was acknowledged as already done`,
    );

    step = 'record hashes';
    checkRecord(record.data, target.kind, opts.sha256);
    pass(
      `sha256 ${record.data.sha256}, md5 ${record.data.md5}, ${record.data.sizeBytes} ` +
        `bytes, version ${record.data.versionId ?? '(unversioned local bucket)'}`,
    );

    step = 'download';
    const downloaded = await download(target.lookup, record.data);
    pass(`302 to a presigned URL, ${downloaded.bytes} bytes read`);

    step = 'verify download';
    const mismatches = compare(record.data, downloaded);
    if (mismatches.length > 0)
      throw new StepFailed(`the downloaded bytes do not match the record: ${mismatches.join('; ')}`);
    pass('SHA-256, MD5 and size of the downloaded bytes equal the record');
    return true;
  } catch (err) {
    report(step, false, err instanceof StepFailed ? err.message : describeError(err));
    return false;
  }
}

/** Polls the record until it is no longer pending (or absent), or the time is up. */
async function waitForFinalRecord(lookup: LookupApi, opts: SmokeOptions, now: () => number): Promise<unknown> {
  const deadline = now() + opts.timeoutMs;
  let last = 'no record yet';
  for (;;) {
    const res = await lookup.get(`/files/${encodeURIComponent(opts.fileId)}`);
    if (res.status === 200) {
      const status = StatusSchema.safeParse(res.json);
      if (!status.success)
        throw new StepFailed(
          `the lookup API sent a record without a status: ${JSON.stringify(res.json).slice(0, 300)}`,
        );
      if (status.data.status !== 'pending') return res.json;
      last = `pending (${JSON.stringify(res.json).slice(0, 300)})`;
    } else if (res.status !== 404) {
      throw new StepFailed(describeApiError(res.status, res.json));
    }
    if (now() >= deadline)
      throw new StepFailed(`no final record after ${Math.round(opts.timeoutMs / 1000)} s; last seen: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs));
  }
}

function checkRecord(record: ArchivedRecordJson, kind: SmokeTarget['kind'], expectedSha256: string | undefined): void {
  // The deployed bucket is versioned (Object Lock): a record without a version id cannot name the locked copy.
  if (kind === 'deployed' && record.versionId === null)
    throw new StepFailed('the record has no S3 version id, but the deployed bucket is versioned');
  if (expectedSha256 !== undefined && record.sha256 !== expectedSha256.toLowerCase()) {
    throw new StepFailed(`the record's sha256 ${record.sha256} is not the expected ${expectedSha256.toLowerCase()}`);
  }
}

interface Downloaded {
  sha256: string;
  md5: string;
  bytes: number;
}

/** Follows the content route's redirect by hand: the presigned URL must get no SigV4 header of ours. */
async function download(lookup: LookupApi, record: ArchivedRecordJson): Promise<Downloaded> {
  const res = await lookup.get(`/files/${encodeURIComponent(record.fileId)}/content`);
  const location = res.headers['location'];
  if (res.status !== 302 || !location) {
    throw new StepFailed(
      res.status === 302 ? 'the lookup API answered 302 without a Location' : describeApiError(res.status, res.json),
    );
  }
  const object = await request(location, { method: 'GET' });
  if (object.statusCode !== 200) {
    const text = (await object.body.text()).slice(0, 2000);
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw new StepFailed(`the presigned download URL answered ${object.statusCode}${code ? ` (${code})` : ''}`);
  }
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let bytes = 0;
  for await (const chunk of object.body) {
    const buf = chunk as Buffer;
    bytes += buf.byteLength;
    // Never read without bound: a byte more than the record says already decides the check.
    if (bytes > record.sizeBytes + 1) {
      object.body.destroy();
      break;
    }
    sha256.update(buf);
    md5.update(buf);
  }
  return { sha256: sha256.digest('hex'), md5: md5.digest('hex'), bytes };
}

function compare(record: ArchivedRecordJson, got: Downloaded): string[] {
  const out: string[] = [];
  if (got.bytes !== record.sizeBytes) {
    out.push(
      `${got.bytes > record.sizeBytes ? 'more than' : 'only'} ${Math.min(got.bytes, record.sizeBytes)} ` +
        `bytes, record ${record.sizeBytes}`,
    );
  }
  if (got.sha256 !== record.sha256) out.push(`sha256 ${got.sha256}, record ${record.sha256}`);
  if (got.md5 !== record.md5) out.push(`md5 ${got.md5}, record ${record.md5}`);
  return out;
}

function describeNotArchived(record: unknown): string {
  const r = z.looseObject({ status: z.string() }).safeParse(record);
  if (!r.success) return 'the record is not an archived record';
  const fields = ['reason', 'detail', 'lastError', 'upstreamRequestId']
    .map((k) => [k, (record as Record<string, unknown>)[k]] as const)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  return `the file was not archived: status ${r.data.status}${fields.length > 0 ? `, ${fields.join(', ')}` : ''}`;
}

function describeApiError(status: number, body: unknown): string {
  const message =
    z.object({ error: z.object({ message: z.string() }) }).safeParse(body).data?.error.message ??
    // API Gateway's own refusals ({"message": "..."}).
    z.object({ message: z.string() }).safeParse(body).data?.message ??
    '';
  const hint =
    status === 403
      ? ": the caller needs the stack's auditor policy (AuditorPolicyArn output) to call the lookup API"
      : '';
  return `the lookup API answered ${status}${message ? ` (${message})` : ''}${hint}`;
}

export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const first = err.message.split('\n')[0] ?? '';
  if (err.name === 'CredentialsProviderError') {
    return (
      'no AWS credentials found (set AWS_PROFILE, run "aws sso login", ' +
      'or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)'
    );
  }
  if (err.name === 'AccessDenied' || err.name === 'AccessDeniedException') {
    return `${first} (sending a job needs the stack's job producer policy, JobProducerPolicyArn output)`;
  }
  return `${err.name === 'Error' ? '' : `${err.name}: `}${first}`;
}
