/**
 * The local lookup server must survive whatever arrives on its port: every request is answered with a
 * status below 500, with a JSON error body where it is refused, and the server still answers
 * afterwards. Requests are written as raw bytes on a socket, so request targets and headers that an
 * HTTP client library would refuse to build (`//`, `/\`, broken escapes, control characters, absolute
 * forms, bad header framing) really reach the server.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CALLER_HEADER, startLookupServer } from '../../local/lookup-server.js';
import { serializeJob } from '../../shared/contracts/job.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { createIngestStack } from '../support/ingest-stack.js';
import type { IngestStack } from '../support/ingest-stack.js';
import { createRecordedLookup } from '../support/recorded-lookup.js';
import { sendRawHttp } from '../support/raw-http.js';
import type { RawResponse } from '../support/raw-http.js';
import { generatedFileFactory } from '../support/upstream.js';

const file = generatedFileFactory();
let stack: IngestStack;
let server: { url: string; close(): Promise<void> };
let port: number;
const errors: { message: string; attributes: Record<string, unknown> | undefined }[] = [];
const quietLog: Log = {
  debug() {},
  info() {},
  warn() {},
  error: (message, attributes) => errors.push({ message, attributes }),
};

beforeAll(async () => {
  stack = await createIngestStack();
  await stack.upstream.addFile(file);
  const { failed } = await stack.deliver([serializeJob({ fileId: file.id, chatId: file.chatId })]);
  expect(failed).toEqual([]);
  // Lookup's calls are checked against the lookup role.
  server = await startLookupServer(await createRecordedLookup(stack, quietLog), { log: quietLog });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server?.close();
  await stack?.close();
});

/** Builds the bytes of one request; `Connection: close` makes the server end the exchange. */
function rawRequest(method: string, target: string, headers: [string, string][] = [], body = ''): Buffer {
  const head = [
    `${method} ${target} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...headers.map(([k, v]) => `${k}: ${v}`),
    'Connection: close',
  ];
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'utf8'), Buffer.from(body, 'utf8')]);
}

/** The contract for every answer: below 500, and a JSON `{error:{type,message}}` body on a refusal. */
function expectWellFormedAnswer(method: string, res: RawResponse, what: string): void {
  expect(res.status, `${what}\n-> ${JSON.stringify(res.raw.slice(0, 400))}`).toBeDefined();
  expect(res.status, `${what}\n-> ${JSON.stringify(res.raw.slice(0, 400))}`).toBeLessThan(500);
  if ((res.status ?? 0) >= 400 && method !== 'HEAD') {
    expect(res.headers['content-type'], what).toMatch(/^application\/json/);
    const parsed = JSON.parse(res.body) as { error?: { type?: unknown; message?: unknown } };
    expect(typeof parsed.error?.type, what).toBe('string');
    expect(typeof parsed.error?.message, what).toBe('string');
  }
}

async function expectStillServing(): Promise<void> {
  const res = await sendRawHttp(port, rawRequest('GET', `/files/${file.id}`));
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body)).toMatchObject({ fileId: file.id, status: 'archived' });
}

describe('local lookup server: hostile requests', () => {
  it.each([
    ['GET', '//'],
    ['GET', '/\\'],
    ['GET', '//\\'],
    ['GET', '///'],
    ['GET', '*'],
    ['OPTIONS', '*'],
    ['GET', 'files'],
    ['GET', 'http://['],
    ['GET', 'http://127.0.0.1:1/files/x'],
    ['GET', '/files/%'],
    ['GET', '/files/%E0%A4%A'],
    ['GET', '/chats/%ZZ/files?limit=%'],
    ['GET', '/files/..%2F..%2Fetc%2Fpasswd'],
    ['GET', '/files/\u00e9\u{1F600}'],
    ['GET', '/chats/claude_chat_01x/files?limit=1&limit=2&cursor=%FF'],
    ['DELETE', '/files/claude_gen_file_01x'],
    ['HEAD', '//'],
  ])('%s %s is answered below 500 and the server keeps serving', async (method, target) => {
    const res = await sendRawHttp(port, rawRequest(method, target));
    expectWellFormedAnswer(method, res, `${method} ${target}`);
    await expectStillServing();
  });

  it('reads `//host/path` as a path, not as a host followed by a path', async () => {
    const res = await sendRawHttp(port, rawRequest('GET', `//127.0.0.1/files/${file.id}`));
    expect(res.status).toBe(404);
    expectWellFormedAnswer('GET', res, 'GET //127.0.0.1/files/<id>');
  });

  it.each([
    ['a request line that is not HTTP', Buffer.from('hello there\r\n\r\n')],
    ['a space inside the target', Buffer.from('GET /files/a b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')],
    ['a header without a colon', Buffer.from('GET / HTTP/1.1\r\nHost x\r\nConnection: close\r\n\r\n')],
    ['headers larger than the server accepts', rawRequest('GET', '/', [['X-Big', 'a'.repeat(70_000)]])],
    ['a CONNECT request', rawRequest('CONNECT', '127.0.0.1:443')],
    ['an Expect the server does not support', rawRequest('GET', '/', [['Expect', 'the-unexpected']])],
    ['a bad Content-Length', rawRequest('GET', '/', [['Content-Length', '-1']])],
    [
      'both Content-Length and Transfer-Encoding',
      rawRequest(
        'POST',
        '/',
        [
          ['Content-Length', '3'],
          ['Transfer-Encoding', 'chunked'],
        ],
        'abc',
      ),
    ],
  ])('%s gets a JSON 4xx and the server keeps serving', async (_what, bytes) => {
    const res = await sendRawHttp(port, bytes);
    expect(res.status, res.raw.slice(0, 300)).toBeGreaterThanOrEqual(400);
    expectWellFormedAnswer('GET', res, _what);
    await expectStillServing();
  });
});

// Pieces that stress URL parsing, percent-decoding, routing and validation.
const PIECES = [
  '/',
  '//',
  '\\',
  '%',
  '%2F',
  '%2f',
  '%00',
  '%zz',
  '%C3%A9',
  '%E0%A4',
  '%FF',
  '%25',
  '.',
  '..',
  '?',
  '&',
  '=',
  '#',
  ';',
  ':',
  '@',
  '+',
  '$',
  ',',
  '~',
  '"',
  "'",
  '<',
  '>',
  '{',
  '}',
  '|',
  '^',
  '`',
  '[',
  ']',
  'é',
  '\u{1F600}',
  '\u0000',
  '\u0001',
  '\u007f',
  '\t',
  'files',
  'chats',
  'content',
  'limit=',
  'cursor=',
  'limit=0',
  'limit=101',
  'limit=5',
  'claude_chat_01',
  'claude_gen_file_01',
  'claude_file_01',
  'file_01',
  'A',
  'z',
  '0',
  '9',
  '_',
  '-',
  'http:',
  'localhost',
];
const piece = fc.constantFrom(...PIECES);
const segment = fc.oneof(
  fc.string({ unit: piece, maxLength: 8 }),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
const target = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('/chats/{}/files', '/files/{}', '/files/{}/content', '/{}', '/{}/{}', '//{}', '{}'),
      segment,
      segment,
    )
    .map(([template, a, b]) => template.replace('{}', a).replace('{}', b)),
  fc
    .tuple(
      fc.constantFrom('/chats/claude_chat_01Fuzz/files?', `/files/${file.id}?`, '/?', '?'),
      fc.string({ unit: piece, maxLength: 10 }),
    )
    .map(([p, q]) => p + q),
  fc
    .tuple(fc.constantFrom('http://', 'https://', 'http://127.0.0.1', 'HTTP://x:99999', 'foo:', '//'), segment)
    .map(([p, s]) => p + s),
  fc.string({ unit: piece, maxLength: 16 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
);
const method = fc.oneof(
  fc.constantFrom(
    'GET',
    'GET',
    'GET',
    'HEAD',
    'POST',
    'PUT',
    'DELETE',
    'OPTIONS',
    'PATCH',
    'TRACE',
    'PROPFIND',
    'PURGE',
    'get',
  ),
  fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,10}$/),
  fc.string({ maxLength: 6 }),
);
const headerName = fc.oneof(
  fc.constantFrom(
    LOCAL_CALLER_HEADER,
    'Accept',
    'Content-Type',
    'Content-Length',
    'Transfer-Encoding',
    'Expect',
    'Upgrade',
    'Cookie',
    'Authorization',
    'X-Forwarded-For',
    'Host',
  ),
  fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/),
  fc.string({ maxLength: 8 }),
);
const headerValue = fc.oneof(
  fc.string({ unit: piece, maxLength: 8 }),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('0', '5', '-1', 'chunked', '100-continue', 'websocket'),
);
const request = fc.record({
  method,
  target,
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 5 }),
  body: fc.oneof(fc.constant(''), fc.string({ maxLength: 40 })),
});

describe('local lookup server: fuzzed requests', () => {
  it('answers thousands of generated raw requests below 500 (JSON errors) and still serves afterwards', async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const bytes = rawRequest(r.method, r.target, r.headers, r.body);
        const res = await sendRawHttp(port, bytes);
        sent++;
        expectWellFormedAnswer(r.method, res, `request ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`);
      }),
      { numRuns: 2_500, seed: Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
    expect(sent).toBeGreaterThanOrEqual(2_500);
    await expectStillServing();
    expect(errors).toEqual([]);
  });
});

// The search and audit routes' query parameters: each one given values that stress its validation
// (wrong shapes, huge, unicode, control characters, repeated, every supported and unsupported
// combination); every answer is below 500 with a JSON error on refusal, and the server keeps serving.
const SEARCH_PARAMS = [
  'creator',
  'chat',
  'project',
  'filename',
  'sha256',
  'md5',
  'status',
  'source',
  'from',
  'to',
  'order',
  'limit',
  'cursor',
];
const AUDIT_PARAMS = ['from', 'to', 'principal', 'fileId', 'limit', 'cursor'];
const paramValue = fc.oneof(
  fc.constantFrom(
    'user_01Fuzz',
    'a@b.c',
    'ALICE@EXAMPLE.COM',
    'claude_chat_01Fuzz',
    'claude_proj_01Fuzz',
    file.id,
    'a'.repeat(64),
    'A'.repeat(32),
    'archived',
    'failed',
    'generated',
    'files_api',
    '2025-01-01',
    '2025-02-30',
    '2025-01-01T00:00:00Z',
    '2025-01-01T00:00:00+05:30',
    '9999-12-31',
    '0000-01-01',
    'newest',
    'oldest',
    '0',
    '100',
    '101',
    '-1',
    'eyJmIjoiYWFhYWFhYWFhYWFhYWFhYSJ9',
    'arn:aws:iam::111122223333:user/x',
    '',
    'x'.repeat(3000),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: piece, maxLength: 8 }),
);

describe('local lookup server: the search and audit parameters', () => {
  it.each([
    ['/search/files', SEARCH_PARAMS],
    ['/audit', AUDIT_PARAMS],
  ])('%s answers any combination of its parameters below 500, and keeps serving', async (route, params) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...params), paramValue), { minLength: 0, maxLength: 5 }),
        async (pairs) => {
          const query = pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
          const res = await sendRawHttp(port, rawRequest('GET', `${route}?${query}`));
          expectWellFormedAnswer('GET', res, `GET ${route}?${query}`);
        },
      ),
      { numRuns: 150 },
    );
    await expectStillServing();
    expect(errors).toEqual([]);
  });
});
