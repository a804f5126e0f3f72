import { describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../../shared/contracts/discovery-ledger.js';
import { createApiClient, errorOf } from '../../console/src/api/client.js';
import { parseConsoleConfig } from '../../console/src/config.js';
import { coverageOf } from '../../console/src/coverage-model.js';
import { ExportRequestSchema } from '../../shared/contracts/exports.js';
import { PlaceHoldRequestSchema } from '../../shared/contracts/holds.js';
import { LOOKUP_ROUTES } from '../../shared/contracts/lookup-routes.js';

describe("the console's API client", () => {
  it('calls each route under the stage path, with ids encoded as one path segment', async () => {
    const seen: { url: string; method: string | undefined; accept: unknown }[] = [];
    const api = createApiClient('https://api.example/v1', async (url, init) => {
      seen.push({ url, method: init.method, accept: (init.headers as Record<string, string>)['accept'] });
      return new Response(JSON.stringify({ url: 'https://bucket.example/x', files: [] }), { status: 200 });
    });
    await api.getFile('claude_file_a/b?c');
    await api.listChatFiles('claude_chat_1', { limit: 10, cursor: 'abc' });
    await api.downloadUrl('claude_file_1');
    await api.searchFiles({ creator: 'a@example.com', from: '2025-01-01' }, { limit: 25 });
    expect(seen.map((s) => s.url)).toEqual([
      'https://api.example/v1/files/claude_file_a%2Fb%3Fc',
      'https://api.example/v1/chats/claude_chat_1/files?limit=10&cursor=abc',
      'https://api.example/v1/files/claude_file_1/content?redirect=false',
      'https://api.example/v1/search/files?creator=a%40example.com&from=2025-01-01&limit=25',
    ]);
  });

  it('calls only routes the lookup API declares, with bodies its own schemas accept', async () => {
    const seen: { method: string; path: string; query: string[]; body: unknown }[] = [];
    const api = createApiClient('https://api.example/v1', async (url, init) => {
      const u = new URL(url);
      seen.push({
        method: init.method ?? 'GET',
        path: u.pathname.replace(/^\/v1/, ''),
        query: [...u.searchParams.keys()],
        body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      });
      return new Response('{}', { status: 200 });
    });
    await api.listHolds();
    await api.getHold('case-1');
    await api.placeHold({ matterId: 'case-1', reason: 'litigation', scope: { chats: ['claude_chat_1'] } });
    await api.releaseHold('case-1');
    await api.verifyFile('claude_file_1', 'deep');
    await api.startExport({ matterId: 'case-1', scope: { users: ['a@example.com'] }, description: 'for counsel' });
    await api.getExport('exp_0123456789abcdef0123456789abcdef');
    await api.listRuns('chats', { limit: 5 });
    await api.listAudit({ fileId: 'claude_file_1' });
    // Each request matches one declared route (method, resource with its {params}, query names).
    for (const r of seen) {
      const route = LOOKUP_ROUTES.find(
        (d) =>
          d.method === r.method &&
          new RegExp(`^${d.resource.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(r.path) &&
          r.query.every((q) => (d.query as readonly string[]).includes(q)),
      );
      expect(route, `${r.method} ${r.path}?${r.query.join('&')}`).toBeDefined();
    }
    expect(seen.find((r) => r.path.endsWith('/verify'))?.query).toEqual(['tier']);
    expect(PlaceHoldRequestSchema.safeParse(seen[2]?.body).success).toBe(true);
    expect(ExportRequestSchema.safeParse(seen[5]?.body).success).toBe(true);
    expect(seen.map((r) => r.method)).toEqual(['GET', 'GET', 'POST', 'DELETE', 'POST', 'POST', 'GET', 'GET', 'GET']);
  });

  it('reports a workbench route the stack does not serve (404 or 403) as not available, not as a failure', () => {
    expect(errorOf(404, { error: { type: 'not_found', message: 'No such route.' } }, true).kind).toBe('unavailable');
    expect(errorOf(403, { message: 'Missing Authentication Token' }, true).kind).toBe('unavailable');
    expect(errorOf(404, { error: { type: 'not_found', message: 'No file claude_file_x' } }, false)).toMatchObject({
      kind: 'not_found',
      message: 'No file claude_file_x',
    });
    expect(errorOf(403, { message: 'User is not authorized' }, false).kind).toBe('denied');
    expect(errorOf(500, { error: { message: 'secret detail' } }, false).message).not.toContain('secret detail');
  });

  it('turns a network failure and a non-JSON answer into errors in words', async () => {
    const down = createApiClient('http://127.0.0.1:1/', async () => {
      throw new TypeError('fetch failed');
    });
    await expect(down.getFile('claude_file_1')).rejects.toMatchObject({ kind: 'network' });
    const html = createApiClient('http://127.0.0.1:1/', async () => new Response('<html>', { status: 200 }));
    await expect(html.getFile('claude_file_1')).rejects.toMatchObject({ kind: 'server' });
  });
});

describe("the console's config.json", () => {
  it('accepts the local and the Cognito forms and refuses plain http to another host', () => {
    expect(
      parseConsoleConfig({
        apiUrl: 'http://127.0.0.1:8787',
        region: 'us-east-1',
        auth: { kind: 'local', caller: 'local:me' },
      }),
    ).toMatchObject({ auth: { kind: 'local' } });
    expect(
      parseConsoleConfig({
        apiUrl: 'https://x.execute-api.eu-west-1.amazonaws.com/v1/',
        region: 'eu-west-1',
        auth: {
          kind: 'cognito',
          userPoolDomain: 'https://auditors.auth.eu-west-1.amazoncognito.com',
          userPoolId: 'eu-west-1_abc',
          userPoolClientId: 'client',
          identityPoolId: 'eu-west-1:1234',
        },
      }),
    ).toMatchObject({ auth: { kind: 'cognito' } });
    expect(() =>
      parseConsoleConfig({ apiUrl: 'http://api.example', region: 'us-east-1', auth: { kind: 'local', caller: 'x' } }),
    ).toThrow(/https/);
    expect(() => parseConsoleConfig({ apiUrl: 'https://api.example', region: 'nowhere', auth: {} })).toThrow(/region/);
  });
});

const run = (over: Partial<LedgerRecord>): LedgerRecord => ({
  source: 'chats',
  runId: 'r',
  startedAt: '2025-06-01T00:00:00.000Z',
  endedAt: '2025-06-01T00:00:10.000Z',
  ending: 'completed',
  cursorStart: null,
  cursorEnd: 'c1',
  pages: 1,
  records: 1,
  invalidRecords: 0,
  jobsEnqueued: 0,
  windowStart: null,
  windowEnd: null,
  lastRequestId: null,
  error: null,
  ...over,
});

describe('the coverage chart model', () => {
  const now = Date.parse('2025-06-01T00:03:00.000Z');

  it('draws runs whose cursors chain as one covered span', () => {
    const c = coverageOf(
      'chats',
      [
        run({
          runId: 'b',
          startedAt: '2025-06-01T00:01:00.000Z',
          endedAt: '2025-06-01T00:01:05.000Z',
          cursorStart: 'c1',
          cursorEnd: 'c2',
        }),
        run({ runId: 'a' }),
      ],
      now,
    );
    expect(c.gaps).toEqual([]);
    expect(c.covered).toEqual([
      { from: Date.parse('2025-06-01T00:00:00.000Z'), to: Date.parse('2025-06-01T00:01:05.000Z') },
    ]);
  });

  it('cuts the covered span at a cursor break and lists failed runs', () => {
    const c = coverageOf(
      'chats',
      [
        run({ runId: 'a' }),
        run({
          runId: 'b',
          startedAt: '2025-06-01T00:01:00.000Z',
          endedAt: '2025-06-01T00:01:05.000Z',
          cursorStart: 'other',
          cursorEnd: 'c3',
          ending: 'failed',
          error: 'boom',
        }),
      ],
      now,
    );
    expect(c.gaps.map((g) => g.kind)).toEqual(['cursor_break']);
    expect(c.covered).toEqual([
      { from: Date.parse('2025-06-01T00:00:00.000Z'), to: Date.parse('2025-06-01T00:00:10.000Z') },
      { from: Date.parse('2025-06-01T00:01:00.000Z'), to: Date.parse('2025-06-01T00:01:05.000Z') },
    ]);
    expect(c.failedRuns.map((r) => r.runId)).toEqual(['b']);
  });
});
