import { describe, expect, it } from 'vitest';
import { FileIdSchema, sourceOfFileId } from '../../shared/contracts/ids.js';

describe('file ids', () => {
  it('accepts the documented prefixes and refuses anything that could escape a path or key', () => {
    expect(FileIdSchema.safeParse('claude_gen_file_01H5CWunD7RpVJ5bHa8RCkja').success).toBe(true);
    for (const bad of ['', 'file_', 'file_a/b', 'file_a b', 'file_a%2F', 'claude_file_\u0000', 'gen_file_x']) {
      expect(FileIdSchema.safeParse(bad).success, bad).toBe(false);
    }
    expect(sourceOfFileId('file_x')).toBe('files_api');
  });
});
