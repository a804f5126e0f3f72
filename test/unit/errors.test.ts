import { describe, expect, it } from 'vitest';
import { IntegrityError, UpstreamHttpError, describeForRecord } from '../../shared/platform/errors.js';

describe('describeForRecord', () => {
  it("keeps this project's own messages, which name the check or status", () => {
    expect(describeForRecord(new IntegrityError('size', '10', '7'))).toBe(
      'IntegrityError: integrity check failed: size expected 10, got 7',
    );
    expect(describeForRecord(new UpstreamHttpError(503, undefined, 'req_1', { retryable: true }))).toContain('503');
  });

  it("keeps only the name of anyone else's error, whose message may carry internal detail", () => {
    const sdkError = Object.assign(
      new Error('User: arn:aws:sts::123:assumed-role/x is not authorized on arn:aws:s3:::bucket'),
      {
        name: 'AccessDenied',
      },
    );
    expect(describeForRecord(sdkError)).toBe('AccessDenied');
    expect(describeForRecord('weird')).toBe('unknown error');
  });
});
