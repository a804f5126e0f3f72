import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeHttpServer, listenOnLoopback } from '../../local/loopback.js';
import { createSignedLookupApi } from '../../shared/platform/signed-lookup.js';
import { runSmoke } from '../../smoke/smoke-run.js';
import type { SmokeTarget } from '../../smoke/smoke-target.js';

/**
 * The smoke test's steps against a scripted lookup API on loopback: what each answer makes of the
 * run, and what goes over the wire (SigV4 on the API, nothing of ours on the presigned URL).
 */
const FILE = 'claude_gen_file_01Smoke';
const BYTES = Buffer.from('smoke test bytes');
const hex = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex');

interface Script {
  record: () => { status: number; body: unknown };
  content: () => { status: number; location?: string; body?: unknown };
  object: () => { status: number; body: Buffer };
}

let script: Script;
const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
const server = createServer((req, res) => {
  const path = req.url ?? '';
  seen.push({ path, headers: req.headers });
  if (path === '/v1/split') {
    // A JSON body whose multi-byte characters straddle two writes, flushed apart, so the client reads
    // them as separate chunks.
    const body = Buffer.from(JSON.stringify({ filename: 'résumé-日本.txt' }));
    const cut = body.indexOf(Buffer.from('é')) + 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(body.subarray(0, cut), () => setTimeout(() => res.end(body.subarray(cut)), 20));
    return;
  }
  const answer =
    path === `/v1/files/${FILE}`
      ? script.record()
      : path === `/v1/files/${FILE}/content`
        ? script.content()
        : path.startsWith('/bucket/')
          ? script.object()
          : { status: 404, body: { error: { type: 'not_found', message: 'no route' } } };
  if ('location' in answer && answer.location) res.setHeader('location', answer.location);
  res.statusCode = answer.status;
  res.end(Buffer.isBuffer(answer.body) ? answer.body : answer.body === undefined ? '' : JSON.stringify(answer.body));
});
let base = '';

function archived(overrides: Record<string, unknown> = {}) {
  return {
    status: 200,
    body: {
      status: 'archived',
      fileId: FILE,
      sizeBytes: BYTES.length,
      md5: hex('md5', BYTES),
      sha256: hex('sha256', BYTES),
      versionId: 'v1',
      archivedAt: new Date().toISOString(),
      ...overrides,
    },
  };
}

function target(kind: SmokeTarget['kind'] = 'deployed'): SmokeTarget & { sent: string[] } {
  const sent: string[] = [];
  return {
    kind,
    label: 'test',
    endpoints: '',
    lookup: createSignedLookupApi(`${base}/v1/`, 'eu-west-1'),
    sendJob: async (body) => {
      sent.push(body);
      return 'msg-1';
    },
    defaultFileId: undefined,
    sent,
  };
}

async function run(t = target(), opts: { timeoutMs?: number; sha256?: string } = {}) {
  const lines: string[] = [];
  const ok = await runSmoke(
    t,
    { fileId: FILE, timeoutMs: opts.timeoutMs ?? 5_000, pollMs: 10, sha256: opts.sha256 },
    (step, pass, detail) => lines.push(`${pass ? 'PASS' : 'FAIL'} ${step}: ${detail}`),
  );
  return { ok, lines };
}

beforeAll(async () => {
  base = `http://127.0.0.1:${await listenOnLoopback(server)}`;
});
afterAll(() => closeHttpServer(server));
beforeEach(() => {
  seen.length = 0;
  script = {
    record: () => archived(),
    content: () => ({ status: 302, location: `${base}/bucket/object?X-Amz-Signature=abc` }),
    object: () => ({ status: 200, body: BYTES }),
  };
});

describe('the smoke run', () => {
  it('passes every step for an intact copy, signing the API calls and nothing else', async () => {
    const t = target();
    const { ok, lines } = await run(t);
    expect(ok).toBe(true);
    expect(lines.map((l) => l.split(':')[0])).toEqual([
      'PASS send job',
      'PASS wait for record',
      'PASS record hashes',
      'PASS download',
      'PASS verify download',
    ]);
    expect(JSON.parse(t.sent[0] ?? '')).toEqual({ v: 1, fileId: FILE });
    const api = seen.filter((s) => s.path.startsWith('/v1/'));
    expect(api.length).toBeGreaterThanOrEqual(2);
    for (const { headers } of api) {
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=S3RVER\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;(x-amz-content-sha256;)?x-amz-date, Signature=[0-9a-f]{64}$/,
      );
    }
    // The presigned URL carries its own signature: a SigV4 header of ours would make S3 refuse it.
    const object = seen.find((s) => s.path.startsWith('/bucket/'));
    expect(object?.headers.authorization).toBeUndefined();
  });

  it('waits while the record is absent or pending', async () => {
    let calls = 0;
    script.record = () => {
      calls += 1;
      if (calls === 1) return { status: 404, body: { error: { type: 'not_found', message: 'no record' } } };
      if (calls < 4) return { status: 200, body: { status: 'pending', fileId: FILE, attempts: 1 } };
      return archived();
    };
    const { ok } = await run();
    expect(ok).toBe(true);
    expect(calls).toBe(4);
  });

  it('fails when the record stays pending past the timeout, showing the last state', async () => {
    script.record = () => ({
      status: 200,
      body: { status: 'pending', fileId: FILE, lastError: 'upstream answered 503' },
    });
    const { ok, lines } = await run(target(), { timeoutMs: 100 });
    expect(ok).toBe(false);
    expect(lines.at(-1)).toMatch(
      /^FAIL wait for record: no final record after 0 s; last seen: pending .*upstream answered 503/,
    );
  });

  it('fails on an unavailable or failed record with its reason', async () => {
    script.record = () => ({
      status: 200,
      body: { status: 'failed', fileId: FILE, reason: 'dead_lettered', upstreamRequestId: 'req_1' },
    });
    const { lines } = await run();
    expect(lines.at(-1)).toBe(
      'FAIL wait for record: the file was not archived: status failed, ' +
        'reason "dead_lettered", upstreamRequestId "req_1"',
    );
  });

  it('explains a 403 from API Gateway: the caller lacks the auditor policy', async () => {
    script.record = () => ({ status: 403, body: { message: 'User is not authorized to access this resource' } });
    const { lines } = await run();
    expect(lines.at(-1)).toMatch(
      /^FAIL wait for record: the lookup API answered 403 \(User is not authorized.*\): .*AuditorPolicyArn/,
    );
  });

  it(
    'fails a deployed run whose record was archived before the job ' + 'was sent: it proves nothing about ingest',
    async () => {
      script.record = () => archived({ archivedAt: '2020-01-01T00:00:00.000Z' });
      const deployed = await run(target('deployed'));
      expect(deployed.ok).toBe(false);
      expect(deployed.lines.at(-1)).toMatch(
        /^FAIL wait for record: the file was archived earlier, at 2020-01-01T00:00:00.000Z, before this job was sent/,
      );
      // The local stack's sample files are archived by discovery as soon as it starts: acknowledged.
      const local = await run(target('local'));
      expect(local.ok).toBe(true);
      expect(local.lines[1]).toMatch(/^PASS wait for record: archived earlier, at 2020-01-01/);
    },
  );

  it('requires a version id from a deployed (versioned) bucket, not from the local one', async () => {
    script.record = () => archived({ versionId: null });
    expect((await run(target('deployed'))).lines.at(-1)).toMatch(
      /^FAIL record hashes: the record has no S3 version id/,
    );
    expect((await run(target('local'))).ok).toBe(true);
  });

  it('checks the operator-given SHA-256 against the record', async () => {
    const { lines } = await run(target(), { sha256: 'A'.repeat(64) });
    expect(lines.at(-1)).toMatch(/^FAIL record hashes: the record's sha256 [0-9a-f]{64} is not the expected a{64}$/);
  });

  it('fails the download when the presigned URL is refused', async () => {
    script.object = () => ({
      status: 403,
      body: Buffer.from('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'),
    });
    const { lines } = await run();
    expect(lines.at(-1)).toBe('FAIL download: the presigned download URL answered 403 (AccessDenied)');
  });

  it('fails the verification on bytes that differ from the record, and stops reading past its size', async () => {
    script.object = () => ({ status: 200, body: Buffer.from('smoke test bytez') });
    expect((await run()).lines.at(-1)).toMatch(
      /^FAIL verify download: the downloaded bytes do not match the record: sha256 [0-9a-f]{64}, record [0-9a-f]{64}; md5/,
    );
    script.object = () => ({ status: 200, body: Buffer.alloc(1024 * 1024) });
    expect((await run()).lines.at(-1)).toMatch(/^FAIL verify download: .*more than 16 bytes, record 16/);
  });
});

describe('the signed lookup transport', () => {
  it('decodes a body whose multi-byte characters are split across chunks without U+FFFD', async () => {
    const res = await createSignedLookupApi(`${base}/v1/`, 'eu-west-1').get('/split');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ filename: 'résumé-日本.txt' });
  });
});
