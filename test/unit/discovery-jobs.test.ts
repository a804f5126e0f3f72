import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jobsOf } from '../../shared/discovery/chat-poller.js';
import { parseJob, serializeJob } from '../../shared/contracts/job.js';
import {
  ChatMessagesPageSchema,
  ChatMessageSchema,
  checkItems,
  MessageGeneratedFileSchema,
} from '../../shared/upstream/listing-schemas.js';

const chatId = 'claude_chat_01abc';

describe('chat messages as upstream sends them', () => {
  it('accepts null files, generated_files and artifacts arrays', () => {
    const page = ChatMessagesPageSchema.parse({
      id: chatId,
      chat_messages: [{ id: 'claude_chat_msg_01a', files: null, generated_files: null, artifacts: null }],
      has_more: false,
      last_id: null,
    });
    const messages = checkItems(ChatMessageSchema, page.chat_messages);
    expect(messages).toEqual({
      items: [expect.objectContaining({ id: 'claude_chat_msg_01a', files: null, generated_files: null })],
      invalid: 0,
    });
  });

  it('counts items that do not match (a hostile id, a negative size) instead of dropping them silently', () => {
    const checked = checkItems(MessageGeneratedFileSchema, [
      { id: 'claude_gen_file_01ok', filename: 'a.txt', md5: null, mime_type: 'text/plain', size_bytes: 1 },
      { id: 'claude_gen_file_../../etc', filename: 'b.txt' },
      { id: 'claude_gen_file_01neg', filename: 'c.txt', size_bytes: -1 },
      'not an object',
    ]);
    expect(checked.items.map((i) => i.id)).toEqual(['claude_gen_file_01ok']);
    expect(checked.invalid).toBe(3);
  });

  it('refuses a page whose envelope does not match (no has_more)', () => {
    expect(ChatMessagesPageSchema.safeParse({ id: chatId, chat_messages: [] }).success).toBe(false);
  });
});

describe('jobs built from messages', () => {
  it('carries the chat id and every metadata field, so the worker skips the metadata request', () => {
    const jobs = jobsOf(chatId, [
      {
        id: 'claude_chat_msg_01a',
        createdAt: '2025-06-01T00:00:00Z',
        uploaded: [
          {
            id: 'claude_file_01u',
            filename: 'u.pdf',
            md5: 'd41d8cd98f00b204e9800998ecf8427e',
            mime_type: 'application/pdf',
            size_bytes: 0,
            created_at: '2025-06-01T00:00:00Z',
          },
        ],
        generated: [{ id: 'claude_gen_file_01g', filename: 'g.csv', md5: null, mime_type: '', size_bytes: null }],
      },
    ]);
    expect(jobs).toEqual([
      {
        v: 1,
        fileId: 'claude_gen_file_01g',
        chatId,
        file: { filename: 'g.csv', md5: null, mime_type: null, size_bytes: null, created_at: null },
        provenance: { messageIds: ['claude_chat_msg_01a'] },
      },
      {
        v: 1,
        fileId: 'claude_file_01u',
        chatId,
        file: {
          filename: 'u.pdf',
          md5: 'd41d8cd98f00b204e9800998ecf8427e',
          mime_type: 'application/pdf',
          size_bytes: 0,
          created_at: '2025-06-01T00:00:00Z',
        },
        provenance: { messageIds: ['claude_chat_msg_01a'] },
      },
    ]);
    for (const job of jobs) expect(parseJob(serializeJob(job)).ok).toBe(true);
  });

  it('sends a file listed in two messages once, and drops metadata the job schema refuses rather than the file', () => {
    const generated = { id: 'claude_gen_file_01g', filename: '', md5: null, mime_type: 'text/plain', size_bytes: 3 };
    const jobs = jobsOf(chatId, [
      { id: 'claude_chat_msg_01a', createdAt: null, uploaded: [], generated: [generated] },
      { id: 'claude_chat_msg_01b', createdAt: null, uploaded: [], generated: [generated] },
    ]);
    expect(jobs).toEqual([
      {
        v: 1,
        fileId: 'claude_gen_file_01g',
        chatId,
        provenance: { messageIds: ['claude_chat_msg_01a', 'claude_chat_msg_01b'] },
      },
    ]);
  });

  it("carries the chat's creator, organization and project, and each file's own message ids", () => {
    const file = (id: string) => ({ id, filename: 'f.txt', md5: null, mime_type: 'text/plain', size_bytes: 1 });
    const jobs = jobsOf(
      chatId,
      [
        { id: 'claude_chat_msg_01a', createdAt: null, uploaded: [], generated: [file('claude_gen_file_01a')] },
        { id: 'claude_chat_msg_01b', createdAt: null, uploaded: [], generated: [file('claude_gen_file_01b')] },
      ],
      {
        provenance: {
          creator: { id: 'user_01alice', emailAddress: 'alice@example.com' },
          organizationId: 'org_01acme',
          projectId: 'claude_proj_01p',
        },
      },
    );
    expect(jobs.map((j) => [j.fileId, j.provenance])).toEqual([
      [
        'claude_gen_file_01a',
        {
          creator: { id: 'user_01alice', emailAddress: 'alice@example.com' },
          organizationId: 'org_01acme',
          projectId: 'claude_proj_01p',
          messageIds: ['claude_chat_msg_01a'],
        },
      ],
      [
        'claude_gen_file_01b',
        {
          creator: { id: 'user_01alice', emailAddress: 'alice@example.com' },
          organizationId: 'org_01acme',
          projectId: 'claude_proj_01p',
          messageIds: ['claude_chat_msg_01b'],
        },
      ],
    ]);
    for (const job of jobs) expect(parseJob(serializeJob(job)).ok).toBe(true);
  });

  it(
    'keeps null where upstream said null, and leaves out a provenance ' + 'field the job schema refuses, not the file',
    () => {
      const jobs = jobsOf(
        chatId,
        [
          {
            id: 'claude_chat_msg_01a',
            createdAt: null,
            uploaded: [],
            generated: [{ id: 'claude_gen_file_01a', filename: 'f', md5: null, mime_type: null, size_bytes: null }],
          },
        ],
        // A creator whose address carries a control character: unusable evidence, dropped alone.
        {
          provenance: {
            creator: { id: 'user_01x', emailAddress: 'a\u0000b@example.com' },
            organizationId: null,
            projectId: null,
          },
        },
      );
      expect(jobs[0]?.provenance).toEqual({
        organizationId: null,
        projectId: null,
        messageIds: ['claude_chat_msg_01a'],
      });
      expect(parseJob(serializeJob(jobs[0] as Parameters<typeof serializeJob>[0])).ok).toBe(true);
    },
  );
});

describe("a chat's who and where as upstream sends it", () => {
  it(
    'reads user, organization and project from a listed chat; a malformed ' + 'user is "not said", not a lost chat',
    async () => {
      const { ChatSummarySchema, ownerProvenance } = await import('../../shared/upstream/listing-schemas.js');
      const chat = ChatSummarySchema.parse({
        id: chatId,
        organization_id: 'org_01acme',
        organization_uuid: '00000000-0000-4000-8000-000000000001',
        project_id: 'claude_proj_01p',
        user: { id: 'user_01alice', email_address: 'alice@example.com' },
      });
      expect(ownerProvenance(chat)).toEqual({
        creator: { id: 'user_01alice', emailAddress: 'alice@example.com' },
        organizationId: 'org_01acme',
        projectId: 'claude_proj_01p',
      });
      const deletedCreator = ChatSummarySchema.parse({ id: chatId, user: null, project_id: null });
      expect(ownerProvenance(deletedCreator)).toEqual({ creator: null, projectId: null });
      const hostile = ChatSummarySchema.parse({
        id: chatId,
        organization_uuid: '00000000-0000-4000-8000-000000000001',
        user: { id: '../../etc', email_address: 'x' },
        project_id: 'claude_proj_doc_01notaproject',
      });
      expect(ownerProvenance(hostile)).toEqual({ organizationId: '00000000-0000-4000-8000-000000000001' });
    },
  );
});

describe("jobs stamped with their message's time (the scheduled chat poller)", () => {
  const generated = { id: 'claude_gen_file_01g', filename: 'g.csv', md5: null, mime_type: 'text/csv', size_bytes: 1 };

  it("carry the message's created_at as appearedAt only when asked to (backfill and the webhook do not ask)", () => {
    const messages = [
      { id: 'claude_chat_msg_01a', createdAt: '2026-12-06T10:00:00Z', uploaded: [], generated: [generated] },
    ];
    expect(jobsOf(chatId, messages, { stampAppearance: true })[0]?.appearedAt).toBe('2026-12-06T10:00:00Z');
    expect(jobsOf(chatId, messages)[0]).not.toHaveProperty('appearedAt');
  });

  it('keep the time through the fallback that drops refused metadata', () => {
    const messages = [
      {
        id: 'claude_chat_msg_01a',
        createdAt: '2026-12-06T10:00:00Z',
        uploaded: [],
        generated: [{ ...generated, filename: '' }],
      },
    ];
    expect(jobsOf(chatId, messages, { stampAppearance: true })).toEqual([
      {
        v: 1,
        fileId: generated.id,
        chatId,
        appearedAt: '2026-12-06T10:00:00Z',
        provenance: { messageIds: ['claude_chat_msg_01a'] },
      },
    ]);
  });

  it('are valid jobs whatever time upstream sends (a hostile or malformed created_at goes without a stamp)', () => {
    fc.assert(
      fc.property(
        fc.option(
          fc.oneof(
            fc.string(),
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          ),
        ),
        (createdAt) => {
          const jobs = jobsOf(
            chatId,
            [{ id: 'claude_chat_msg_01a', createdAt, uploaded: [], generated: [generated] }],
            {
              stampAppearance: true,
            },
          );
          for (const job of jobs) {
            const parsed = parseJob(serializeJob(job));
            expect(parsed.ok).toBe(true);
            if (parsed.ok && parsed.job.appearedAt !== undefined) expect(parsed.job.appearedAt).toBe(createdAt);
          }
        },
      ),
    );
  });
});

describe('the listing client', () => {
  it('refuses a plain-http upstream that is not on loopback: the key travels with every request', async () => {
    const { createListingClient } = await import('../../shared/upstream/listing-client.js');
    const { Agent } = await import('undici');
    expect(() =>
      createListingClient({ baseUrl: 'http://upstream.example.com', apiKey: 'k', dispatcher: new Agent() }),
    ).toThrow(/https/);
    expect(() =>
      createListingClient({ baseUrl: 'http://127.0.0.1:9', apiKey: 'k', dispatcher: new Agent() }),
    ).not.toThrow();
  });
});
