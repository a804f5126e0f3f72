import { describe, expect, it } from 'vitest';
import { isNotFound } from '../../shared/archive/s3-archive-store.js';

describe('isNotFound', () => {
  it('recognises a missing key however S3 or a local server reports it', () => {
    expect(isNotFound({ name: 'NotFound', $metadata: {} })).toBe(true);
    expect(isNotFound({ name: 'NoSuchKey' })).toBe(true);
    expect(isNotFound({ name: 'UnknownError', $metadata: { httpStatusCode: 404 } })).toBe(true);
  });

  it('leaves every other failure to be thrown', () => {
    expect(isNotFound({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe(false);
    expect(isNotFound(new Error('socket hang up'))).toBe(false);
    expect(isNotFound(undefined)).toBe(false);
  });
});
