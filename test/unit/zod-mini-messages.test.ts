import { describe, expect, it } from 'vitest';
import { IngestConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { parseJob } from '../../shared/contracts/job.js';
import { parseWebhookEvent } from '../../shared/contracts/webhook.js';
import { normaliseMetadata } from '../../shared/upstream/file-metadata.js';
import * as z from '../../shared/contracts/zod.js';

// The schemas a Lambda bundles are zod/mini (shared/contracts/zod.ts), which loads no locale: without
// the English one every zod-written message would read "Invalid input". This file imports shared/
// modules only (vitest gives each test file its own module graph), so classic zod, which sets the
// English locale as it loads, is not here to hide a missing one.

describe('zod/mini schemas answer with English messages (shared/contracts/zod.ts sets the locale)', () => {
  it('names the expected literal in a dead-letter reason', () => {
    expect(parseJob(JSON.stringify({ v: 2, fileId: 'claude_file_abc' }))).toEqual({
      ok: false,
      reason: 'not a valid job: v: Invalid input: expected 1',
    });
  });

  it('names the expected type and the bound in a webhook 400', () => {
    const body = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(parseWebhookEvent(body({ v: 1, fileIds: 'claude_file_abc' }))).toEqual({
      ok: false,
      message: 'fileIds: Invalid input: expected array, received string',
    });
    expect(parseWebhookEvent(body({ v: 1, fileIds: ['claude_file_a'], reason: 'x'.repeat(501) }))).toEqual({
      ok: false,
      message: 'reason: must be at most 500 characters',
    });
  });

  it('names the variable and the problem in a configuration error', () => {
    expect(() =>
      loadConfig(IngestConfigSchema, {
        ARCHIVE_BUCKET: 'bucket',
        INDEX_TABLE: 'table',
        INGEST_QUEUE_URL: 'not a url',
        DEAD_LETTER_QUEUE_URL: 'http://127.0.0.1:1/dlq',
        ANTHROPIC_API_KEY: 'key',
        MAX_RECEIVE_COUNT: '0',
      }),
    ).toThrow(
      'invalid configuration: INGEST_QUEUE_URL: Invalid URL; MAX_RECEIVE_COUNT: Too small: expected number to be >=1',
    );
  });

  it('throws $ZodError, the class the upstream client tests for to name the fields upstream got wrong', () => {
    let thrown: unknown;
    try {
      normaliseMetadata('claude_file_abc', 'uploaded', { id: 'claude_file_abc', filename: 7 });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(z.$ZodError);
    expect((thrown as z.$ZodError).issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['filename', 'Invalid input: expected string, received number'],
    ]);
  });
});
