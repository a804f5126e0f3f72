import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { S3UrlSigner, type GetObjectUrlInput } from '../../shared/archive/s3-url-signer.js';
import { createS3Client } from '../../shared/platform/aws-clients.js';

// The lookup signs download and bag URLs without the S3 client (shared/archive/s3-url-signer.ts).
// These tests prove the URL is the SDK presigner's for the same input, credentials and clock: the
// same scheme, host and path, and the same query parameters (signature included), so the URL
// semantics (expiry, version, response headers, the signed host) are unchanged.

const signingDate = new Date('2026-12-06T12:00:00.000Z');
const roleCredentials = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret/example+key', sessionToken: 'tok==' };
const userCredentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'other-secret' };

interface Case {
  region: string;
  endpoint?: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

async function bothUrls(c: Case, input: GetObjectUrlInput, expiresIn: number): Promise<[URL, URL]> {
  const s3 = createS3Client({ region: c.region, endpoint: c.endpoint, credentials: c.credentials });
  try {
    const sdk = await getSignedUrl(s3, new GetObjectCommand(input), { expiresIn, signingDate });
    const ours = await new S3UrlSigner({
      region: c.region,
      credentials: c.credentials,
      endpoint: c.endpoint,
    }).presignGetObject(input, expiresIn, signingDate);
    return [new URL(ours), new URL(sdk)];
  } finally {
    s3.destroy();
  }
}

/** Scheme, host and path, and the query as a sorted list of decoded pairs. */
function parts(url: URL) {
  return {
    origin: url.origin,
    pathname: url.pathname,
    query: [...url.searchParams.entries()].sort(([a], [b]) => a.localeCompare(b)),
  };
}

const download: GetObjectUrlInput = {
  Bucket: 'archiverdata-archivebucket-1a2b3c4d5e6f',
  Key: 'files/user_01/file_01ABC/report (final).pdf',
  VersionId: 'Zx.3_vJc9Wq8',
  ResponseContentDisposition: `attachment; filename="r.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`,
  ResponseContentType: 'application/pdf',
};

describe('S3UrlSigner', () => {
  it.each<[string, Case, Partial<GetObjectUrlInput>]>([
    ['virtual-hosted in us-east-1 with a role session', { region: 'us-east-1', credentials: roleCredentials }, {}],
    ['virtual-hosted in eu-central-1', { region: 'eu-central-1', credentials: userCredentials }, {}],
    ['the China partition suffix', { region: 'cn-north-1', credentials: roleCredentials }, {}],
    ['GovCloud', { region: 'us-gov-west-1', credentials: roleCredentials }, {}],
    [
      'path-style for a bucket name with dots',
      { region: 'eu-west-1', credentials: roleCredentials },
      { Bucket: 'a.b.c' },
    ],
    ['no version id (an export bag)', { region: 'us-east-1', credentials: roleCredentials }, { VersionId: undefined }],
    [
      'a local endpoint (s3rver), path-style with its port',
      {
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:4569',
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      },
      {},
    ],
    [
      'a local endpoint with a path',
      { region: 'us-east-1', endpoint: 'http://localhost:7480/s3', credentials: userCredentials },
      {},
    ],
  ])('gives the SDK presigner’s URL: %s', async (_name, c, change) => {
    // Arrange
    const input = { ...download, ...change };

    // Act
    const [ours, sdk] = await bothUrls(c, input, 300);

    // Assert
    expect(parts(ours)).toEqual(parts(sdk));
    expect(ours.searchParams.get('X-Amz-Expires')).toBe('300');
  });

  it('signs any key, disposition and expiry as the SDK does (property)', async () => {
    const keySegment = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(keySegment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/')),
        fc.option(fc.string({ unit: 'grapheme', maxLength: 40 }), { nil: undefined }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9._-]{1,32}$/), { nil: undefined }),
        fc.integer({ min: 1, max: 604_800 }),
        async (Key, ResponseContentDisposition, VersionId, expiresIn) => {
          const input = { Bucket: 'archive-bucket', Key, VersionId, ResponseContentDisposition };
          const [ours, sdk] = await bothUrls({ region: 'us-east-1', credentials: roleCredentials }, input, expiresIn);
          expect(parts(ours)).toEqual(parts(sdk));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses an expiry beyond the seven days SigV4 allows, as the SDK does', async () => {
    const signer = new S3UrlSigner({ region: 'us-east-1', credentials: roleCredentials });
    await expect(signer.presignGetObject(download, 604_801, signingDate)).rejects.toThrow(/expir/i);
  });

  it('tells its listeners what each URL lets its holder do', async () => {
    // Arrange
    const signer = new S3UrlSigner({ region: 'us-east-1', credentials: roleCredentials });
    const seen: unknown[] = [];
    signer.onPresign((call) => seen.push(call));

    // Act
    await signer.presignGetObject(download, 60);

    // Assert
    expect(seen).toEqual([{ operation: 'GetObject', input: download }]);
  });
});
