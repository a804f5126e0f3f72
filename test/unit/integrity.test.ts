import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../shared/platform/errors.js';
import { IntegrityMeter, contentMd5ToHex, verifyIntegrity } from '../../shared/archive/integrity.js';

function digestsOf(text: string) {
  const meter = new IntegrityMeter();
  for (const part of [text.slice(0, 3), text.slice(3)]) meter.update(Buffer.from(part));
  return meter.digest();
}

describe('integrity checks', () => {
  const body = 'hello, archive';
  const md5 = createHash('md5').update(body).digest();
  const digests = digestsOf(body);

  it('hashes chunked input exactly as the whole', () => {
    expect(digests.md5Hex).toBe(md5.toString('hex'));
    expect(digests.sha256Hex).toBe(createHash('sha256').update(body).digest('hex'));
    expect(digests.bytes).toBe(body.length);
  });

  it('passes when size, Content-MD5 and metadata md5 all match', () => {
    expect(() =>
      verifyIntegrity(
        { sizeBytes: body.length, contentMd5Base64: md5.toString('base64'), metadataMd5Hex: md5.toString('hex') },
        digests,
      ),
    ).not.toThrow();
  });

  it.each([
    ['size', { sizeBytes: body.length + 1, contentMd5Base64: undefined, metadataMd5Hex: null }],
    [
      'content-md5',
      { sizeBytes: null, contentMd5Base64: createHash('md5').update('x').digest('base64'), metadataMd5Hex: null },
    ],
    ['content-md5', { sizeBytes: null, contentMd5Base64: 'not base64 at all', metadataMd5Hex: null }],
    [
      'metadata-md5',
      { sizeBytes: null, contentMd5Base64: undefined, metadataMd5Hex: 'd41d8cd98f00b204e9800998ecf8427e' },
    ],
  ] as const)('fails the %s check', (check, expected) => {
    try {
      verifyIntegrity(expected, digests);
      expect.unreachable('verification should have failed');
    } catch (err) {
      expect(err).toBeInstanceOf(IntegrityError);
      expect((err as IntegrityError).check).toBe(check);
    }
  });

  it('takes Content-MD5 as the authority: bytes that match it pass whatever the metadata md5 says', () => {
    const disagreeing = {
      sizeBytes: body.length,
      contentMd5Base64: md5.toString('base64'),
      metadataMd5Hex: 'd41d8cd98f00b204e9800998ecf8427e',
    };
    expect(() => verifyIntegrity(disagreeing, digests)).not.toThrow();
  });

  it('decodes only a 16-byte base64 Content-MD5', () => {
    expect(contentMd5ToHex(md5.toString('base64'))).toBe(md5.toString('hex'));
    expect(contentMd5ToHex('AAAA')).toBeUndefined();
  });
});
