import { describe, expect, it } from 'vitest';
import { parseJob, serializeJob } from '../../shared/contracts/job.js';
import { MAX_WEBHOOK_CHATS, MAX_WEBHOOK_IDS, parseWebhookEvent } from '../../shared/contracts/webhook.js';

const parse = (value: unknown) =>
  parseWebhookEvent(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
const fileIds = (n: number) => Array.from({ length: n }, (_, i) => `claude_gen_file_01f${i}`);
const chatIds = (n: number) => Array.from({ length: n }, (_, i) => `claude_chat_01c${i}`);

describe('webhook event schema v1', () => {
  it('accepts file ids, chat ids and a reason, and counts a repeated id once', () => {
    const parsed = parse({
      v: 1,
      fileIds: ['claude_file_01a', 'file_01b', 'claude_file_01a'],
      chatIds: ['claude_chat_01c'],
      reason: 'Legal hold 2026-114 — Müller',
    });
    expect(parsed).toEqual({
      ok: true,
      event: {
        v: 1,
        fileIds: ['claude_file_01a', 'file_01b'],
        chatIds: ['claude_chat_01c'],
        reason: 'Legal hold 2026-114 — Müller',
      },
    });
  });

  it(`accepts ${MAX_WEBHOOK_IDS} ids in all, ${MAX_WEBHOOK_CHATS} of them chats`, () => {
    expect(
      parse({ v: 1, fileIds: fileIds(MAX_WEBHOOK_IDS - MAX_WEBHOOK_CHATS), chatIds: chatIds(MAX_WEBHOOK_CHATS) }).ok,
    ).toBe(true);
  });

  it.each([
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'UTF-8'],
    ['not JSON', Buffer.from('{"v":1,'), 'not valid JSON'],
    ['an array', Buffer.from('[]'), 'event'],
    ['no version', Buffer.from(JSON.stringify({ fileIds: ['file_01a'] })), 'v'],
    ['another version', Buffer.from(JSON.stringify({ v: 2, fileIds: ['file_01a'] })), 'v: must be 1'],
    [
      'an unknown field',
      Buffer.from(JSON.stringify({ v: 1, fileIds: ['file_01a'], fileID: 'x' })),
      'Unknown field(s): fileID',
    ],
    ['no id', Buffer.from(JSON.stringify({ v: 1, fileIds: [], reason: 'x' })), 'at least one id'],
    ['a chat id among file ids', Buffer.from(JSON.stringify({ v: 1, fileIds: ['claude_chat_01a'] })), 'fileIds.0'],
    ['a path in an id', Buffer.from(JSON.stringify({ v: 1, chatIds: ['claude_chat_../x'] })), 'chatIds.0'],
    [
      'too many ids',
      Buffer.from(JSON.stringify({ v: 1, fileIds: fileIds(MAX_WEBHOOK_IDS - 5), chatIds: chatIds(6) })),
      `at most ${MAX_WEBHOOK_IDS} ids`,
    ],
    ['too many chats', Buffer.from(JSON.stringify({ v: 1, chatIds: chatIds(MAX_WEBHOOK_CHATS + 1) })), 'chatIds'],
    ['too many file ids', Buffer.from(JSON.stringify({ v: 1, fileIds: fileIds(MAX_WEBHOOK_IDS + 1) })), 'fileIds'],
    [
      'a reason too long',
      Buffer.from(JSON.stringify({ v: 1, fileIds: ['file_01a'], reason: 'x'.repeat(501) })),
      'reason',
    ],
    ['a blank reason', Buffer.from(JSON.stringify({ v: 1, fileIds: ['file_01a'], reason: '   ' })), 'reason'],
    [
      'a control character in the reason',
      Buffer.from(JSON.stringify({ v: 1, fileIds: ['file_01a'], reason: 'a\nb' })),
      'reason',
    ],
    [
      'a noncharacter SQS refuses in the reason',
      Buffer.from(JSON.stringify({ v: 1, fileIds: ['file_01a'], reason: 'a\uffffb' })),
      'reason',
    ],
    ['a lone surrogate in the reason', Buffer.from('{"v":1,"fileIds":["file_01a"],"reason":"a\\ud800b"}'), 'reason'],
  ])('refuses %s, naming the problem', (_name, bytes, fragment) => {
    const parsed = parseWebhookEvent(bytes);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(fragment);
  });
});

describe('ingest job reason (backward compatible)', () => {
  it('a job written before reason existed still parses, and one with a reason keeps it', () => {
    expect(parseJob(JSON.stringify({ v: 1, fileId: 'claude_file_01a' }))).toMatchObject({
      ok: true,
      job: { fileId: 'claude_file_01a' },
    });
    const parsed = parseJob(serializeJob({ fileId: 'claude_file_01a', reason: 'DLP alert 7' }));
    expect(parsed.ok && parsed.job.reason).toBe('DLP alert 7');
  });

  it('a job with a reason the webhook would refuse is refused too', () => {
    expect(parseJob(JSON.stringify({ fileId: 'claude_file_01a', reason: '' })).ok).toBe(false);
    expect(parseJob(JSON.stringify({ fileId: 'claude_file_01a', reason: 'x'.repeat(501) })).ok).toBe(false);
  });
});
