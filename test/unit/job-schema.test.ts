import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJob, serializeJob } from '../../shared/contracts/job.js';

describe('ingest job schema v1', () => {
  it('accepts the minimal job and selects the source from the id prefix', () => {
    const cases = [
      ['claude_gen_file_01abc', 'generated'],
      ['claude_file_01abc', 'uploaded'],
      ['file_011CNha8iCJcU1wXNR6q4V8w', 'files_api'],
    ] as const;
    for (const [fileId, source] of cases) {
      const parsed = parseJob(JSON.stringify({ fileId }));
      expect(parsed).toEqual({ ok: true, job: { v: 1, fileId }, source });
    }
  });

  it('accepts carried chat id and metadata as discovery lists them', () => {
    const body = serializeJob({
      fileId: 'claude_gen_file_x1',
      chatId: 'claude_chat_c1',
      file: {
        filename: 'report.csv',
        md5: 'd41d8cd98f00b204e9800998ecf8427e',
        mime_type: 'text/csv',
        size_bytes: 0,
        created_at: '2026-01-02T03:04:05Z',
      },
    });
    const parsed = parseJob(body);
    expect(parsed.ok && parsed.job.file?.size_bytes).toBe(0);
  });

  it('accepts provenance with the record field names, and every job written before it still parses', () => {
    const provenance = {
      creator: { id: 'user_01alice', emailAddress: 'alice@example.com' },
      organizationId: 'org_01acme',
      projectId: 'claude_proj_01p',
      messageIds: ['claude_chat_msg_01a', 'claude_chat_msg_01b'],
    };
    const parsed = parseJob(serializeJob({ fileId: 'claude_file_01u', chatId: 'claude_chat_c1', provenance }));
    expect(parsed.ok && parsed.job.provenance).toEqual(provenance);
    const unsaid = parseJob(JSON.stringify({ fileId: 'claude_file_01u', provenance: { creator: null } }));
    expect(unsaid.ok && unsaid.job.provenance).toEqual({ creator: null });
    // A body as discovery wrote it before provenance existed.
    const old = parseJob('{"v":1,"fileId":"claude_gen_file_x1","chatId":"claude_chat_c1"}');
    expect(old).toEqual({
      ok: true,
      job: { v: 1, fileId: 'claude_gen_file_x1', chatId: 'claude_chat_c1' },
      source: 'generated',
    });
  });

  it.each([
    ['a creator without a user_ id', { creator: { id: 'alice', emailAddress: null } }, 'provenance.creator.id'],
    [
      'an address with a newline',
      { creator: { id: 'user_1', emailAddress: 'a\nb@x' } },
      'provenance.creator.emailAddress',
    ],
    ['a document id as project', { projectId: 'claude_proj_doc_01d' }, 'provenance.projectId'],
    ['a chat id as message id', { messageIds: ['claude_chat_01c'] }, 'provenance.messageIds.0'],
    ['an unknown provenance field', { owner: 'x' }, 'provenance'],
    ['a wire-shaped user', { creator: { id: 'user_1', email_address: 'a@x' } }, 'provenance.creator'],
  ])('rejects provenance with %s, naming the field', (_name, provenance, fragment) => {
    const parsed = parseJob(JSON.stringify({ fileId: 'claude_file_01u', provenance }));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(fragment);
  });

  it.each([
    ['not JSON', '{fileId:', 'not valid JSON'],
    ['an array', '[]', 'not a valid job'],
    ['an unknown version', JSON.stringify({ v: 2, fileId: 'file_a' }), 'v'],
    ['an unknown field', JSON.stringify({ fileId: 'file_a', extra: 1 }), 'not a valid job'],
    ['an unknown prefix', JSON.stringify({ fileId: 'claude_chat_a' }), 'fileId'],
    ['a path in the id', JSON.stringify({ fileId: 'file_../../etc' }), 'fileId'],
    ['an over-long id', JSON.stringify({ fileId: `file_${'a'.repeat(201)}` }), 'fileId'],
    ['a bad chat id', JSON.stringify({ fileId: 'file_a', chatId: 'chat_1' }), 'chatId'],
    [
      'an uppercase md5',
      JSON.stringify({ fileId: 'claude_file_a', file: { filename: 'x', md5: 'D41D8CD98F00B204E9800998ECF8427E' } }),
      'file.md5',
    ],
    [
      'a field the worker would ignore',
      JSON.stringify({ fileId: 'file_a', file: { filename: 'x', downloadable: true } }),
      'file',
    ],
    [
      'an appearance time that is not a timestamp',
      JSON.stringify({ fileId: 'file_a', appearedAt: 'yesterday' }),
      'appearedAt',
    ],
    [
      'a negative size',
      JSON.stringify({ fileId: 'claude_file_a', file: { filename: 'x', size_bytes: -1 } }),
      'file.size_bytes',
    ],
  ])('rejects %s with a reason naming the problem', (_name, body, fragment) => {
    const parsed = parseJob(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(fragment);
  });
});

describe('serializeJob beyond the Basic Multilingual Plane', () => {
  it('escapes astral characters, so the body is one any SQS accepts, and parses back to the same job', () => {
    const job = { fileId: 'claude_file_01Astral', reason: 'legal hold 𨐭𫔔쬞', file: { filename: 'plan 🚀.md' } };
    const body = serializeJob(job);
    expect(body).not.toMatch(/[\ud800-\udfff]/);
    expect(body).toContain('\\ud83d\\ude80');
    expect(body).toContain('쬞');
    const parsed = parseJob(body);
    expect(parsed.ok && parsed.job).toEqual({ v: 1, ...job });
  });
});

describe('serializeJob and the characters SQS accepts', () => {
  // SendMessage's MessageBody: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF only.
  const SQS_ALLOWED = /^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;

  it('escapes the noncharacters U+FFFE and U+FFFF of a filename, so the file is archived rather than refused', () => {
    const job = { fileId: 'claude_file_01Nonchar', file: { filename: 'odd\ufffename\uffff.txt' } };
    const body = serializeJob(job);
    expect(body).toMatch(SQS_ALLOWED);
    expect(body).toContain('\\ufffe');
    const parsed = parseJob(body);
    expect(parsed.ok && parsed.job).toEqual({ v: 1, ...job });
  });

  it('gives a body SQS accepts for any filename the job schema allows (property)', () => {
    fc.assert(
      fc.property(
        fc.string({
          // Any code point (lone surrogates included), with the ones SQS refuses made likely.
          unit: fc.oneof(
            fc.constantFrom('\ufffe', '\uffff', '\u0000', '\u001f', '\ud800', '\udfff'),
            fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)),
          ),
          minLength: 1,
          maxLength: 50,
        }),
        (filename) => {
          const job = { fileId: 'claude_file_01Any', file: { filename } };
          const body = serializeJob(job);
          expect(body).toMatch(SQS_ALLOWED);
          expect(JSON.parse(body)).toEqual({ v: 1, ...job });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('appearedAt', () => {
  it('is optional: a job written before it existed parses as before, and one with it keeps it', () => {
    expect(parseJob(JSON.stringify({ fileId: 'file_a' }))).toMatchObject({ ok: true, job: { v: 1, fileId: 'file_a' } });
    const parsed = parseJob(serializeJob({ fileId: 'file_a', appearedAt: '2026-12-06T10:15:00.000Z' }));
    expect(parsed.ok && parsed.job.appearedAt).toBe('2026-12-06T10:15:00.000Z');
  });
});
