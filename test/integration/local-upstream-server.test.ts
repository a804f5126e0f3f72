import { createHash } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { UpstreamServer } from '../../local/upstream/server.js';
import {
  TEST_UPSTREAM_API_KEY,
  filesApiFileFactory,
  generatedFileFactory,
  startTestUpstream,
  upstreamHeaders,
  uploadedFileFactory,
} from '../support/upstream.js';

// Proves that the local upstream behaves as docs/upstream-api-facts.md states and that every
// fault is delivered as specified; the ingest tests rely on both.

const GEN = '/v1/compliance/apps/chats/generated-files';
const UPL = '/v1/compliance/apps/chats/files';
const FILES = '/v1/files';

let upstream: UpstreamServer;
const agent = new Agent({ connect: { timeout: 2_000 }, headersTimeout: 10_000, bodyTimeout: 10_000 });

async function get(path: string, headers: Record<string, string> = upstreamHeaders()) {
  const res = await request(`${upstream.url}${path}`, { headers, dispatcher: agent });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, json: (): unknown => JSON.parse(body.toString()) };
}

const ErrorBodySchema = z.object({ error: z.object({ type: z.string() }) });
const ChatMessagesSchema = z.object({
  chat_messages: z.array(
    // Each of the two arrays may be null (documented): the sample sends null where a message has none.
    z.object({
      id: z.string(),
      role: z.string(),
      files: z.array(z.unknown()).nullable(),
      generated_files: z.array(z.unknown()).nullable(),
    }),
  ),
});

/** Reads a response body chunk by chunk (never whole), calling `onChunk` for each. */
async function readChunks(body: AsyncIterable<unknown>, onChunk: (chunk: Buffer) => void): Promise<void> {
  for await (const chunk of body) {
    if (!Buffer.isBuffer(chunk)) throw new Error('expected Buffer chunks');
    onChunk(chunk);
  }
}

function md5Base64(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}

beforeAll(async () => {
  upstream = await startTestUpstream();
});

afterAll(async () => {
  await upstream.close();
  await agent.close();
});

describe('authentication and required headers', () => {
  it('answers 401 authentication_error with the documented body when the key is missing or wrong', async () => {
    const file = generatedFileFactory();
    await upstream.addFile(file);
    for (const headers of [{ 'anthropic-version': '2023-06-01' }, upstreamHeaders({ apiKey: 'sk-ant-wrong' })]) {
      const res = await get(`${GEN}/${file.id}`, headers);
      expect(res.status).toBe(401);
      expect(res.json()).toEqual({
        type: 'error',
        error: { type: 'authentication_error', message: expect.any(String) },
        request_id: res.headers['request-id'],
      });
    }
  });

  it('requires anthropic-version: 2023-06-01', async () => {
    const file = generatedFileFactory();
    await upstream.addFile(file);
    const res = await get(`${GEN}/${file.id}`, { 'x-api-key': TEST_UPSTREAM_API_KEY });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('accepts a Bearer key on Compliance paths (the seed example) but not on the Files API', async () => {
    const gen = generatedFileFactory();
    const api = filesApiFileFactory();
    await upstream.addFile(gen);
    await upstream.addFile(api);
    const bearer = { authorization: `Bearer ${TEST_UPSTREAM_API_KEY}`, 'anthropic-version': '2023-06-01' };
    expect((await get(`${GEN}/${gen.id}`, bearer)).status).toBe(200);
    expect((await get(`${FILES}/${api.id}`, { ...bearer, 'anthropic-beta': 'files-api-2025-04-14' })).status).toBe(401);
  });

  it('requires the Files API beta header on /v1/files, also inside a comma-separated list', async () => {
    const file = filesApiFileFactory();
    await upstream.addFile(file);
    const without = await get(`${FILES}/${file.id}`);
    expect(without.status).toBe(400);
    expect(without.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const listed = await get(`${FILES}/${file.id}`, {
      ...upstreamHeaders(),
      'anthropic-beta': 'skills-2025-10-02, files-api-2025-04-14',
    });
    expect(listed.status).toBe(200);
  });

  it('puts a unique request-id and rate-limit headers on every response; failed auth does not count', async () => {
    const file = generatedFileFactory();
    await upstream.addFile(file);
    const a = await get(`${GEN}/${file.id}`);
    const unauthorised = await get(`${GEN}/${file.id}`, upstreamHeaders({ apiKey: 'nope' }));
    const b = await get(`${GEN}/${file.id}`);
    const ids = [a, unauthorised, b].map((r) => r.headers['request-id']);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]+$/);
    for (const res of [a, unauthorised, b]) {
      expect(res.headers['anthropic-ratelimit-requests-limit']).toBe('600');
      expect(res.headers['anthropic-ratelimit-requests-reset']).toEqual(
        a.headers['anthropic-ratelimit-requests-reset'],
      );
    }
    expect(unauthorised.headers['anthropic-ratelimit-requests-remaining']).toBe(
      a.headers['anthropic-ratelimit-requests-remaining'],
    );
    expect(Number(b.headers['anthropic-ratelimit-requests-remaining'])).toBe(
      Number(a.headers['anthropic-ratelimit-requests-remaining']) - 1,
    );
    expect(Date.parse(String(a.headers['anthropic-ratelimit-requests-reset']))).toBeGreaterThan(Date.now() - 1_000);
  });
});

describe('metadata, field for field per source', () => {
  it('generated: id, claude_chat_id, created_at, filename, md5, mime_type, size_bytes', async () => {
    const file = generatedFileFactory({ content: Buffer.from('abc') });
    await upstream.addFile(file);
    expect((await get(`${GEN}/${file.id}`)).json()).toEqual({
      id: file.id,
      claude_chat_id: file.chatId,
      created_at: file.createdAt,
      filename: file.filename,
      md5: '900150983cd24fb0d6963f7d28e17f72',
      mime_type: 'text/plain',
      size_bytes: 3,
    });
  });

  it('uploaded: id, claude_chat_ids, created_at, filename, md5, message_ids, mime_type, size_bytes', async () => {
    const file = uploadedFileFactory({
      chatIds: ['claude_chat_01one', 'claude_chat_01two'],
      messageIds: ['claude_chat_msg_01a', 'claude_chat_msg_01b'],
      content: Buffer.from('abc'),
    });
    await upstream.addFile(file);
    expect((await get(`${UPL}/${file.id}`)).json()).toEqual({
      id: file.id,
      claude_chat_ids: ['claude_chat_01one', 'claude_chat_01two'],
      created_at: file.createdAt,
      filename: file.filename,
      md5: '900150983cd24fb0d6963f7d28e17f72',
      message_ids: ['claude_chat_msg_01a', 'claude_chat_msg_01b'],
      mime_type: 'text/markdown',
      size_bytes: 3,
    });
  });

  it(
    'Files API: id, created_at, filename, mime_type, size_bytes, ' + 'type "file", downloadable, scope; no md5',
    async () => {
      const file = filesApiFileFactory({ scope: { id: 'sesn_01x', type: 'session' } });
      await upstream.addFile(file);
      expect((await get(`${FILES}/${file.id}`, upstreamHeaders({ beta: true }))).json()).toEqual({
        id: file.id,
        created_at: file.createdAt,
        filename: file.filename,
        mime_type: 'text/csv',
        size_bytes: 8,
        type: 'file',
        downloadable: true,
        scope: { id: 'sesn_01x', type: 'session' },
      });
    },
  );

  it('publishes a wrong or null md5 when told to, while Content-MD5 stays true to the bytes', async () => {
    const wrong = generatedFileFactory({ publishedMd5: '0'.repeat(32) });
    const missing = uploadedFileFactory({ publishedMd5: null });
    await upstream.addFile(wrong);
    await upstream.addFile(missing);
    expect((await get(`${GEN}/${wrong.id}`)).json()).toMatchObject({ md5: '0'.repeat(32) });
    expect((await get(`${UPL}/${missing.id}`)).json()).toMatchObject({ md5: null });
    const content = await get(`${GEN}/${wrong.id}/content`);
    expect(content.headers['content-md5']).toBe(md5Base64(content.body));
  });

  it('an expired generated file has size_bytes null and its content answers 404', async () => {
    const file = generatedFileFactory({ expired: true });
    await upstream.addFile(file);
    expect((await get(`${GEN}/${file.id}`)).json()).toMatchObject({ size_bytes: null });
    const content = await get(`${GEN}/${file.id}/content`);
    expect(content.status).toBe(404);
    expect(content.json()).toMatchObject({ error: { type: 'not_found_error' } });
  });

  it('publishes size_bytes null yet serves the content of a file whose size is unpublished', async () => {
    const bytes = Buffer.from('size not published');
    const generated = generatedFileFactory({ sizeUnpublished: true, content: bytes });
    const uploaded = uploadedFileFactory({ sizeUnpublished: true, content: bytes });
    for (const [path, file] of [
      [GEN, generated],
      [UPL, uploaded],
    ] as const) {
      await upstream.addFile(file);
      expect((await get(`${path}/${file.id}`)).json()).toMatchObject({ size_bytes: null });
      const content = await get(`${path}/${file.id}/content`);
      expect(content.status).toBe(200);
      expect(content.body.equals(bytes)).toBe(true);
      expect(content.headers['content-md5']).toBe(md5Base64(bytes));
    }
  });

  it('answers 404 not_found_error for an unknown id, an id of another source, and after removeFile', async () => {
    const file = uploadedFileFactory();
    await upstream.addFile(file);
    expect((await get(`${UPL}/claude_file_01doesnotexist`)).status).toBe(404);
    expect((await get(`${GEN}/${file.id}`)).status).toBe(404);
    upstream.removeFile(file.id);
    const gone = await get(`${UPL}/${file.id}/content`);
    expect(gone.status).toBe(404);
    expect(gone.json()).toMatchObject({
      error: { type: 'not_found_error', message: 'No file found with provided id, or it has already been deleted.' },
    });
  });
});

describe('content', () => {
  it('is chunked (no Content-Length) with Content-MD5 over the served bytes and the file Content-Type', async () => {
    const file = generatedFileFactory({ content: Buffer.from('x'.repeat(600_000)), mimeType: 'text/csv' });
    await upstream.addFile(file);
    const res = await get(`${GEN}/${file.id}/content`);
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['content-type']).toBe('text/csv');
    expect(res.headers['content-md5']).toBe(md5Base64(res.body));
    expect(res.body.length).toBe(600_000);
    expect(res.headers['content-disposition']).toBeUndefined();
  });

  it('sends Content-Disposition with an RFC 5987 filename for uploaded files', async () => {
    const file = uploadedFileFactory({ filename: "naïve plan (v2)'s.md" });
    await upstream.addFile(file);
    const res = await get(`${UPL}/${file.id}/content`);
    expect(res.headers['content-disposition']).toBe("attachment; filename*=utf-8''na%C3%AFve%20plan%20%28v2%29%27s.md");
    const encoded = String(res.headers['content-disposition']).split("''")[1] ?? '';
    expect(decodeURIComponent(encoded)).toBe(file.filename);
  });

  it('answers a 4xx error for a Files API file that is not downloadable', async () => {
    const file = filesApiFileFactory({ downloadable: false });
    await upstream.addFile(file);
    const res = await get(`${FILES}/${file.id}/content`, upstreamHeaders({ beta: true }));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('streams generated content whose bytes and hashes match digestOf', async () => {
    const file = generatedFileFactory({ content: { size: 3 * 1024 * 1024 + 17, seed: 99 } });
    await upstream.addFile(file);
    const res = await get(`${GEN}/${file.id}/content`);
    const digest = await upstream.digestOf(file.id);
    expect(res.body.length).toBe(digest.sizeBytes);
    expect(res.headers['content-md5']).toBe(digest.md5Base64);
    expect(createHash('sha256').update(res.body).digest('hex')).toBe(digest.sha256Hex);
  });

  it('serves 200 MB of generated content without holding it in memory', async () => {
    const file = generatedFileFactory({ content: { size: 200 * 1024 * 1024, seed: 5 } });
    await upstream.addFile(file);
    const before = process.memoryUsage().rss;
    let peak = before;
    const res = await request(`${upstream.url}${GEN}/${file.id}/content`, {
      headers: upstreamHeaders(),
      dispatcher: agent,
    });
    const md5 = createHash('md5');
    let received = 0;
    await readChunks(res.body, (chunk) => {
      md5.update(chunk);
      received += chunk.length;
      peak = Math.max(peak, process.memoryUsage().rss);
    });
    expect(received).toBe(200 * 1024 * 1024);
    expect(md5.digest('base64')).toBe(res.headers['content-md5']);
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('chat messages', () => {
  it("lists a chat's uploaded files on user messages and generated files on assistant messages", async () => {
    const chatId = 'claude_chat_01MessagesTest';
    const gen = generatedFileFactory({ chatId, messageId: 'claude_chat_msg_01gen', createdAt: '2025-06-02T10:00:00Z' });
    const expired = generatedFileFactory({ chatId, expired: true, createdAt: '2025-06-02T10:05:00Z' });
    const shared = uploadedFileFactory({
      chatIds: ['claude_chat_01Other', chatId],
      messageIds: ['claude_chat_msg_01other', 'claude_chat_msg_01mine'],
      createdAt: '2025-06-02T09:00:00Z',
    });
    for (const f of [gen, expired, shared]) await upstream.addFile(f);
    const res = await get(`/v1/compliance/apps/chats/${chatId}/messages`);
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ id: chatId, deleted_at: null, has_more: false, first_id: 'claude_chat_msg_01mine' });
    const messages = ChatMessagesSchema.parse(body).chat_messages;
    expect(messages.map((m) => [m.id, m.role])).toEqual([
      ['claude_chat_msg_01mine', 'user'],
      ['claude_chat_msg_01gen', 'assistant'],
      [expect.stringMatching(/^claude_chat_msg_/), 'assistant'],
    ]);
    expect(messages[0]?.files).toEqual([
      expect.objectContaining({
        id: shared.id,
        md5: expect.stringMatching(/^[0-9a-f]{32}$/),
        size_bytes: expect.any(Number),
      }),
    ]);
    expect(messages[1]?.generated_files).toEqual([
      {
        id: gen.id,
        filename: gen.filename,
        md5: expect.any(String),
        mime_type: gen.mimeType,
        size_bytes: expect.any(Number),
      },
    ]);
    expect(messages[2]?.generated_files).toEqual([expect.objectContaining({ id: expired.id, size_bytes: null })]);
  });

  it('answers 404 for a chat with no files', async () => {
    expect((await get('/v1/compliance/apps/chats/claude_chat_01Nothing/messages')).status).toBe(404);
  });
});

describe('chat listing cursors', () => {
  // A chat's id is the cursor under either order. The chat poller reads by updated_at while
  // `archiver backfill` reads by created_at; when both pages end at the same chat, the backfill's
  // cursor must not replace the poller's, or the poller's next page is refused as a foreign cursor
  // (on the local stack: the chat poller stuck on "cursor rejected" after the README's backfill).
  it('keeps a cursor issued under updated_at valid after the same chat id is issued under created_at', async () => {
    for (const [i, chatId] of ['claude_chat_01CursorA', 'claude_chat_01CursorB'].entries())
      await upstream.addFile(generatedFileFactory({ chatId, createdAt: `2025-06-0${i + 3}T10:00:00Z` }));
    const CHATS = '/v1/compliance/apps/chats';
    const Page = z.object({ data: z.array(z.object({ id: z.string() })), last_id: z.string().nullable() });
    const byCreated = Page.parse((await get(`${CHATS}?order_by=created_at&limit=1000`)).json()).data.map((c) => c.id);
    const last = byCreated.at(-1) ?? '';
    const byUpdated = Page.parse((await get(`${CHATS}?order_by=updated_at&limit=1000`)).json()).data.map((c) => c.id);
    // An updated_at page that ends at that chat, then a created_at page that ends at it too.
    const updatedPage = Page.parse(
      (await get(`${CHATS}?order_by=updated_at&limit=${byUpdated.indexOf(last) + 1}`)).json(),
    );
    expect(updatedPage.last_id).toBe(last);
    expect(Page.parse((await get(`${CHATS}?order_by=created_at&limit=1000`)).json()).last_id).toBe(last);

    const next = await get(`${CHATS}?order_by=updated_at&after_id=${last}`);
    expect(next.status, next.body.toString()).toBe(200);
    expect(Page.parse(next.json()).data.map((c) => c.id)).toEqual(byUpdated.slice(byUpdated.indexOf(last) + 1));
    // A cursor handed out under created_at only is refused under updated_at (upstream-api-facts.md),
    // and an id that names no chat is refused.
    const createdOnly = byCreated[0] ?? '';
    expect([last, byUpdated.at(-1)]).not.toContain(createdOnly);
    expect(Page.parse((await get(`${CHATS}?order_by=created_at&limit=1`)).json()).last_id).toBe(createdOnly);
    expect((await get(`${CHATS}?order_by=updated_at&after_id=${createdOnly}`)).status).toBe(400);
    expect((await get(`${CHATS}?order_by=updated_at&after_id=claude_chat_01NeverIssued`)).status).toBe(400);
  });

  it('reads on from a chat id handed out before a restart (a kept cursor), and refuses an unknown id', async () => {
    // A second server over the same catalogue stands for `npm start` started again: it issued nothing.
    const restarted = await startTestUpstream();
    try {
      for (const [i, chatId] of ['claude_chat_01RestartA', 'claude_chat_01RestartB'].entries())
        await restarted.addFile(generatedFileFactory({ chatId, createdAt: `2025-06-0${i + 3}T10:00:00Z` }));
      const CHATS = `${restarted.url}/v1/compliance/apps/chats`;
      const page = async (query: string) => {
        const res = await request(`${CHATS}?${query}`, { headers: upstreamHeaders(), dispatcher: agent });
        return { status: res.statusCode, body: (await res.body.json()) as { data?: { id: string }[] } };
      };
      const kept = await page('order_by=updated_at&after_id=claude_chat_01RestartA');
      expect(kept.status).toBe(200);
      expect(kept.body.data?.map((c) => c.id)).toEqual(['claude_chat_01RestartB']);
      expect((await page('order_by=updated_at&after_id=claude_chat_01NoSuchChat')).status).toBe(400);
    } finally {
      await restarted.close();
    }
  });
});

describe('projects, attachments and documents', () => {
  const PROJECTS = '/v1/compliance/apps/projects';
  const PageSchema = z.object({
    data: z.array(z.record(z.string(), z.unknown())),
    has_more: z.boolean(),
    next_page: z.string().nullable(),
  });

  it(
    'lists projects ascending by creation, paged with an opaque next_page ' + 'that only this listing accepts',
    async () => {
      const ids = Array.from({ length: 5 }, (_, i) => `claude_proj_01PagedProject${i}`);
      // Added out of order: the listing sorts by created_at.
      for (const [i, id] of [...ids.entries()].reverse()) {
        upstream.listings.projects.set({
          id,
          createdAt: `2024-01-0${i + 1}T00:00:00Z`,
          ...(i === 4 ? { userId: null } : {}),
        });
      }
      const first = PageSchema.parse((await get(`${PROJECTS}?limit=3`)).json());
      expect(first.data.map((p) => p['id'])).toEqual(ids.slice(0, 3));
      expect(first).toMatchObject({ has_more: true, next_page: expect.stringMatching(/^page_/) });
      expect(first.data[0]).toMatchObject({
        deleted_at: null,
        organization_id: 'org_01Local',
        organization_uuid: expect.any(String),
        user: { id: 'user_01LocalSampleUser', email_address: '01localsampleuser@example.com' },
      });
      const second = PageSchema.parse((await get(`${PROJECTS}?limit=3&page=${first.next_page}`)).json());
      // Other tests' projects may follow; these five come first.
      expect(second.data.map((p) => p['id']).slice(0, 2)).toEqual(ids.slice(3));
      expect(second.data[1]?.['user']).toBeNull();
      expect((await get(`${PROJECTS}?page=page_forged`)).status).toBe(400);
      expect((await get(`${PROJECTS}/${ids[0]}/attachments?page=${first.next_page}`)).status).toBe(400);
      expect((await get(`${PROJECTS}?limit=101`)).status).toBe(400);
    },
  );

  it(
    "lists a project's files and documents by creation, discriminated " +
      "by type, and serves a document's text and metadata",
    async () => {
      const content = Buffer.from('attached to a project\n');
      const file = uploadedFileFactory({ chatIds: [], createdAt: '2025-01-02T00:00:00Z', content });
      await upstream.addFile(file);
      const text = 'Plan — naïve ✓\n';
      upstream.listings.projects.set({
        id: 'claude_proj_01WithAttachments',
        fileIds: [file.id],
        documents: [
          { id: 'claude_proj_doc_01Plan', filename: 'plan.md', content: text, createdAt: '2025-01-01T00:00:00Z' },
        ],
      });
      const page = PageSchema.parse((await get(`${PROJECTS}/claude_proj_01WithAttachments/attachments`)).json());
      expect(page.data).toEqual([
        expect.objectContaining({ id: 'claude_proj_doc_01Plan', type: 'project_doc', mime_type: 'text/plain' }),
        expect.objectContaining({
          id: file.id,
          type: 'project_file',
          md5: expect.stringMatching(/^[0-9a-f]{32}$/),
          size_bytes: content.length,
        }),
      ]);
      const doc = (await get(`${PROJECTS}/documents/claude_proj_doc_01Plan`)).json();
      expect(doc).toMatchObject({ id: 'claude_proj_doc_01Plan', content: text, filename: 'plan.md' });
      const bytes = Buffer.from(text, 'utf8');
      expect((await get(`${PROJECTS}/documents/claude_proj_doc_01Plan/metadata`)).json()).toMatchObject({
        claude_project_id: 'claude_proj_01WithAttachments',
        md5: createHash('md5').update(bytes).digest('hex'),
        size_bytes: bytes.length,
        mime_type: 'text/plain',
      });
    },
  );

  it('keeps a project deleted in the app listed with deleted_at, and answers 404 after hard deletes', async () => {
    upstream.listings.projects.set({
      id: 'claude_proj_01Deleted',
      createdAt: '2020-01-01T00:00:00Z',
      documents: [{ id: 'claude_proj_doc_01Gone', filename: 'g.md', content: 'g' }],
    });
    upstream.listings.projects.update('claude_proj_01Deleted', { deletedAt: '2025-02-01T00:00:00Z' });
    const listed = PageSchema.parse((await get(`${PROJECTS}?limit=100`)).json());
    expect(listed.data.find((p) => p['id'] === 'claude_proj_01Deleted')).toMatchObject({
      deleted_at: '2025-02-01T00:00:00Z',
    });
    upstream.listings.projects.removeDocument('claude_proj_doc_01Gone');
    const gone = await get(`${PROJECTS}/documents/claude_proj_doc_01Gone`);
    expect([gone.status, ErrorBodySchema.parse(gone.json()).error.type]).toEqual([404, 'not_found_error']);
    upstream.listings.projects.remove('claude_proj_01Deleted');
    expect((await get(`${PROJECTS}/claude_proj_01Deleted/attachments`)).status).toBe(404);
  });

  it(
    'filters projects by updated_at, bumps updated_at when a file is attached, ' +
      'and refuses a filter that is no timestamp',
    async () => {
      upstream.listings.projects.set({ id: 'claude_proj_01Quiet', createdAt: '2020-01-01T00:00:00Z' });
      upstream.listings.projects.set({ id: 'claude_proj_01Busy', createdAt: '2020-01-02T00:00:00Z' });
      const file = uploadedFileFactory({ chatIds: [] });
      await upstream.addFile(file);
      const before = new Date(Date.now() - 1_000).toISOString();
      upstream.listings.projects.attach('claude_proj_01Busy', file.id);

      const changed = PageSchema.parse((await get(`${PROJECTS}?limit=100&updated_at.gte=${before}`)).json());
      expect(changed.data.map((p) => p['id'])).toEqual(['claude_proj_01Busy']);
      expect(Date.parse(String(changed.data[0]?.['updated_at']))).toBeGreaterThanOrEqual(Date.parse(before));
      const older = PageSchema.parse((await get(`${PROJECTS}?limit=100&updated_at.lt=${before}`)).json());
      expect(older.data.map((p) => p['id'])).toContain('claude_proj_01Quiet');
      expect(older.data.map((p) => p['id'])).not.toContain('claude_proj_01Busy');
      const bad = await get(`${PROJECTS}?updated_at.gte=yesterday`);
      expect([bad.status, ErrorBodySchema.parse(bad.json()).error.type]).toEqual([400, 'invalid_request_error']);
    },
  );
});

describe('faults', () => {
  it('429 then success: the first request is throttled with retry-after, the next one succeeds', async () => {
    const file = generatedFileFactory();
    await upstream.addFile(file);
    upstream.injectFault(file.id, 'metadata', { status: 429, retryAfterSeconds: 2 });
    const throttled = await get(`${GEN}/${file.id}`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('2');
    expect(throttled.json()).toMatchObject({ error: { type: 'rate_limit_error' } });
    expect((await get(`${GEN}/${file.id}`)).status).toBe(200);
  });

  it('429 with retryAfterMs sends retry-after-ms and a rounded-up retry-after', async () => {
    const file = generatedFileFactory();
    await upstream.addFile(file);
    upstream.injectFault(file.id, 'content', { status: 429, retryAfterMs: 1500 });
    const res = await get(`${GEN}/${file.id}/content`);
    expect(res.headers['retry-after-ms']).toBe('1500');
    expect(res.headers['retry-after']).toBe('2');
  });

  it('consumes faults in order, one per request, per endpoint', async () => {
    const file = uploadedFileFactory();
    await upstream.addFile(file);
    upstream.injectFault(file.id, 'content', { status: 529 }, { status: 500, shouldRetry: false }, { status: 403 });
    upstream.injectFault(file.id, 'metadata', { status: 401 });
    const statuses: [number, unknown, unknown][] = [];
    for (let i = 0; i < 4; i++) {
      const res = await get(`${UPL}/${file.id}/content`);
      const type = res.status === 200 ? 'ok' : ErrorBodySchema.parse(res.json()).error.type;
      statuses.push([res.status, type, res.headers['x-should-retry']]);
    }
    expect(statuses).toEqual([
      [529, 'overloaded_error', undefined],
      [500, 'api_error', 'false'],
      [403, 'permission_error', undefined],
      [200, 'ok', undefined],
    ]);
    const metadata = await get(`${UPL}/${file.id}`);
    expect(metadata.status).toBe(401);
    expect(metadata.json()).toMatchObject({ error: { type: 'authentication_error' } });
  });

  it('404 fault answers not_found_error even for a file that exists', async () => {
    const file = generatedFileFactory();
    await upstream.addFile(file);
    upstream.injectFault(file.id, 'content', { status: 404 });
    const res = await get(`${GEN}/${file.id}/content`);
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ error: { type: 'not_found_error' } });
  });

  it('no-content-md5 serves the bytes without a Content-MD5 header', async () => {
    const file = generatedFileFactory();
    await upstream.addFile(file);
    upstream.injectFault(file.id, 'content', { kind: 'no-content-md5' });
    const res = await get(`${GEN}/${file.id}/content`);
    expect(res.status).toBe(200);
    expect(res.headers['content-md5']).toBeUndefined();
    expect(res.body.toString()).toBe('generated file content\n');
  });

  it('wrong-content-md5 sends a well-formed MD5 of other bytes', async () => {
    const file = generatedFileFactory();
    await upstream.addFile(file);
    upstream.injectFault(file.id, 'content', { kind: 'wrong-content-md5' });
    const res = await get(`${GEN}/${file.id}/content`);
    const header = String(res.headers['content-md5']);
    expect(Buffer.from(header, 'base64')).toHaveLength(16);
    expect(header).not.toBe(md5Base64(res.body));
    expect(res.body.equals(Buffer.from('generated file content\n'))).toBe(true);
  });

  it("truncate ends the chunked body cleanly after afterBytes, keeping the full file's Content-MD5", async () => {
    const file = uploadedFileFactory({ content: { size: 1_000_000, seed: 4 } });
    await upstream.addFile(file);
    upstream.injectFault(file.id, 'content', { kind: 'truncate', afterBytes: 300_000 });
    const res = await get(`${UPL}/${file.id}/content`);
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(300_000);
    expect(res.headers['content-md5']).toBe((await upstream.digestOf(file.id)).md5Base64);
  });

  it.each([400_000, 0])(
    'reset delivers afterBytes (%i) and then breaks the connection (the body stream errors)',
    async (afterBytes) => {
      const file = generatedFileFactory({ content: { size: 1_000_000, seed: 6 } });
      await upstream.addFile(file);
      upstream.injectFault(file.id, 'content', { kind: 'reset', afterBytes });
      const res = await request(`${upstream.url}${GEN}/${file.id}/content`, {
        headers: upstreamHeaders(),
        dispatcher: agent,
      });
      expect(res.statusCode).toBe(200);
      let received = 0;
      const error = await (async () => {
        try {
          await readChunks(res.body, (chunk) => {
            received += chunk.length;
          });
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(error).toMatchObject({ code: 'UND_ERR_SOCKET' });
      expect(received).toBe(afterBytes);
    },
  );

  it('stall delays the response headers by ms, then answers normally', async () => {
    const file = generatedFileFactory();
    await upstream.addFile(file);
    upstream.injectFault(file.id, 'metadata', { kind: 'stall', ms: 300 });
    const started = Date.now();
    const res = await get(`${GEN}/${file.id}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.status).toBe(200);
  });

  it(
    "a stall longer than the client's headersTimeout surfaces as " +
      'UND_ERR_HEADERS_TIMEOUT, and the server carries on',
    async () => {
      const file = generatedFileFactory();
      await upstream.addFile(file);
      upstream.injectFault(file.id, 'content', { kind: 'stall', ms: 5_000 });
      const impatient = new Agent({ headersTimeout: 200 });
      try {
        await expect(
          request(`${upstream.url}${GEN}/${file.id}/content`, { headers: upstreamHeaders(), dispatcher: impatient }),
        ).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
      } finally {
        await impatient.destroy();
      }
      expect((await get(`${GEN}/${file.id}/content`)).status).toBe(200);
    },
  );

  it('refuses body faults on the metadata endpoint instead of silently ignoring them', () => {
    expect(() => upstream.injectFault('claude_gen_file_01x', 'metadata', { kind: 'truncate', afterBytes: 1 })).toThrow(
      /content endpoint only/,
    );
  });
});

describe('inspection', () => {
  it('logs method, path, id, endpoint, status and fault of each request, never the API key', async () => {
    const file = generatedFileFactory();
    await upstream.addFile(file);
    upstream.injectFault(file.id, 'content', { status: 503 });
    await get(`${GEN}/${file.id}`);
    await get(`${GEN}/${file.id}/content`);
    await get(`${GEN}/${file.id}/content?x=1`);
    expect(upstream.requestCount(file.id)).toBe(3);
    expect(upstream.requestCount(file.id, 'content')).toBe(2);
    const mine = upstream.requests.filter((r) => r.id === file.id);
    expect(mine.map((r) => [r.method, r.path, r.endpoint, r.status])).toEqual([
      ['GET', `${GEN}/${file.id}`, 'metadata', 200],
      ['GET', `${GEN}/${file.id}/content`, 'content', 503],
      ['GET', `${GEN}/${file.id}/content`, 'content', 200],
    ]);
    expect(mine[1]?.fault).toEqual({ status: 503 });
    expect(JSON.stringify(upstream.requests)).not.toContain(TEST_UPSTREAM_API_KEY);
  });

  it('rejects a file whose id does not fit its source', async () => {
    await expect(upstream.addFile(generatedFileFactory({ id: 'claude_file_01wrongprefix' }))).rejects.toThrow(
      /not a valid generated file id/,
    );
  });
});
