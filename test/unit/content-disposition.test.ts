import { describe, expect, it } from 'vitest';
import {
  contentDisposition,
  encodeRfc5987,
  safeContentType,
  sanitizeFilename,
} from '../../shared/archive/content-disposition.js';

describe('filename handling', () => {
  it('removes paths, control characters and bidi overrides from hostile names', () => {
    expect(sanitizeFilename('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(sanitizeFilename('a\u0000b\r\nc\u202Etxt.exe')).toBe('abctxt.exe');
    expect(sanitizeFilename('..')).toBe('__');
    expect(sanitizeFilename('\u0001\u0002')).toBe('file');
  });

  it('replaces lone surrogates (valid JSON, invalid UTF-8) instead of failing to encode them', () => {
    const name = JSON.parse('"a\\ud800b.txt"') as string;
    expect(sanitizeFilename(name)).toBe('a\uFFFDb.txt');
    expect(contentDisposition(name)).toBe(`attachment; filename="a_b.txt"; filename*=UTF-8''a%EF%BF%BDb.txt`);
  });

  it('bounds the length to 255 code points without splitting a surrogate pair', () => {
    const name = sanitizeFilename('😀'.repeat(500));
    expect([...name]).toHaveLength(255);
    expect(name.endsWith('😀')).toBe(true);
  });

  it('encodes RFC 5987 ext-values with only attr-char left literal', () => {
    expect(encodeRfc5987("naïve (copy)*'s.txt")).toBe('na%C3%AFve%20%28copy%29%2A%27s.txt');
  });

  it('gives an ASCII fallback and the exact UTF-8 name (RFC 6266)', () => {
    expect(contentDisposition('Résumé "final".pdf')).toBe(
      `attachment; filename="R_sum_ _final_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf`,
    );
  });

  it('keeps well-formed MIME types and replaces anything else', () => {
    expect(safeContentType('text/CSV')).toBe('text/csv');
    expect(safeContentType('text/html\r\nX-Injected: 1')).toBe('application/octet-stream');
    expect(safeContentType(null)).toBe('application/octet-stream');
  });
});
