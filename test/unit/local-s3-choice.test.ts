import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseLocalS3, LocalS3Unavailable } from '../../local/local-s3-choice.js';

// Which S3 `npm start` runs (ARCHIVER_S3), and where that server's data lives.
describe('chooseLocalS3', () => {
  const installed = () => true;
  const missing = () => false;

  it('keeps s3rver on the data folder by default and for ARCHIVER_S3=s3rver', () => {
    for (const env of [{}, { ARCHIVER_S3: '' }, { ARCHIVER_S3: 's3rver' }]) {
      expect(chooseLocalS3(env, '/data', missing)).toEqual({ server: 's3rver', serverDataDir: '/data' });
    }
  });

  it('runs the gateway on a folder of its own inside the data folder', () => {
    expect(chooseLocalS3({ ARCHIVER_S3: 'rgw' }, '/data', installed)).toEqual({
      server: 'rgw',
      serverDataDir: join('/data', 'rgw-session'),
    });
  });

  it('says in one line how to install the gateway when it is missing', () => {
    const attempt = () => chooseLocalS3({ ARCHIVER_S3: 'rgw' }, '/data', missing);
    expect(attempt).toThrow(LocalS3Unavailable);
    expect(attempt).toThrow(
      new LocalS3Unavailable(
        "ARCHIVER_S3=rgw needs Ceph's RADOS Gateway, which is not installed; as root: " +
          'apt-get install --no-install-recommends radosgw ceph-mon ceph-osd ceph-common',
      ),
    );
  });

  it('refuses any other value, naming the two it accepts', () => {
    expect(() => chooseLocalS3({ ARCHIVER_S3: 'minio' }, '/data', installed)).toThrow(
      'ARCHIVER_S3 must be s3rver (the default) or rgw, not "minio"',
    );
  });
});
