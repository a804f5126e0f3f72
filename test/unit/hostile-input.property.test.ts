import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentDisposition, safeContentType, sanitizeFilename } from '../../shared/archive/content-disposition.js';
import { parseJob } from '../../shared/contracts/job.js';

// Upstream filenames, MIME types and queue bodies are untrusted. These properties hold for any input.
// Any code points, and raw UTF-16 code units (lone surrogates are legal in JSON strings).
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 600 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 600 }),
);

describe('hostile input, property-based', () => {
  it('a sanitised filename has no path separator, control character or bidi override, and is 1..255 code points', () => {
    fc.assert(
      fc.property(anyText, (name) => {
        const clean = sanitizeFilename(name);
        expect(clean).not.toMatch(/[/\\\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u);
        expect([...clean].length).toBeGreaterThanOrEqual(1);
        expect([...clean].length).toBeLessThanOrEqual(255);
        expect(clean).not.toMatch(/^\.+$/);
      }),
    );
  });

  it('Content-Disposition is one line of printable ASCII whose filename* decodes to the sanitised name', () => {
    fc.assert(
      fc.property(anyText, (name) => {
        const header = contentDisposition(name);
        expect(header).toMatch(/^[\x20-\x7e]+$/);
        const m = /^attachment; filename="([^"\\]*)"; filename\*=UTF-8''([A-Za-z0-9%!#$&+\-.^_`|~]+)$/.exec(header);
        expect(m).not.toBeNull();
        expect(decodeURIComponent(m?.[2] ?? '')).toBe(sanitizeFilename(name));
      }),
    );
  });

  it('a Content-Type is either a well-formed lowercase type/subtype or application/octet-stream', () => {
    fc.assert(
      fc.property(anyText, (mime) => {
        const type = safeContentType(mime);
        expect(type).toMatch(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/);
      }),
    );
  });

  it('parseJob never throws, and an accepted job has an id safe for keys and paths', () => {
    const bodies = fc.oneof(
      anyText,
      fc.json(),
      fc
        .record({
          fileId: fc.oneof(
            anyText,
            fc.constantFrom('file_', 'claude_file_', 'claude_gen_file_').chain((p) => fc.string().map((s) => p + s)),
          ),
        })
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(bodies, (body) => {
        const parsed = parseJob(body);
        if (parsed.ok) expect(parsed.job.fileId).toMatch(/^(claude_gen_file_|claude_file_|file_)[A-Za-z0-9_-]{1,200}$/);
        else expect(parsed.reason.length).toBeGreaterThan(0);
      }),
    );
  });
});
