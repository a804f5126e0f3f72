/**
 * The local AWS stack with S3 on the RADOS Gateway (`startLocalAws({ s3: 'rgw' })`, what
 * `ARCHIVER_S3=rgw npm start` runs): its cluster folder starts empty, every local client signs as the
 * gateway's admin user, a daemon that dies is reported (npm start then stops with exit 1), and stop()
 * leaves no daemon behind. Runs only where radosgw is installed (vitest.config.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectLockConfigurationCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureObjectLockBucket } from '../../local/aws/resources.js';
import { startLocalAws, type LocalAws } from '../../local/aws/servers.js';
import { createS3Client } from '../../shared/platform/aws-clients.js';

let dataDir: string;
let aws: LocalAws | undefined;
const unexpected: string[] = [];

/** pid → command line of the processes whose CEPH_CONF points into `dir` (Linux /proc). */
async function cephDaemonsOf(dir: string): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    if (!environ.split('\0').some((v) => v.startsWith(`CEPH_CONF=${dir}/`))) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
    found.set(Number(pid), cmdline.split('\0').join(' ').trim());
  }
  return found;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'archiver-local-rgw-'));
  // What a previous run left: the gateway cannot bring its objects back, so it must not be reused.
  await mkdir(join(dataDir, 'rgw'), { recursive: true });
  await writeFile(join(dataDir, 'rgw', 'left-by-last-run'), 'stale');
  aws = await startLocalAws({ s3: 'rgw', dataDir, onUnexpectedExit: (reason) => unexpected.push(reason) });
}, 120_000);

afterAll(async () => {
  await aws?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("startLocalAws({ s3: 'rgw' })", () => {
  it('starts the cluster in an emptied folder under the data folder, three daemons', async () => {
    expect(aws?.s3Server).toBe('rgw');
    expect(existsSync(join(dataDir, 'rgw', 'left-by-last-run')), 'the old folder was emptied').toBe(false);
    expect(existsSync(join(dataDir, 'rgw', 'ceph.conf'))).toBe(true);
    expect(
      [...(await cephDaemonsOf(dataDir)).values()].map((c) => c.split(' ').find((w) => /^(ceph-|radosgw)/.test(w))),
    ).toEqual(expect.arrayContaining(['ceph-mon', 'ceph-osd', 'radosgw']));
  });

  it('accepts the local key (S3RVER) as its admin user, who can create the archive bucket locked', async () => {
    const s3 = createS3Client({ endpoint: aws?.s3Endpoint as string, region: aws?.region as string });
    try {
      // The test project's environment holds the local key, as useLocalAwsEnvironment sets for npm start.
      expect(process.env['AWS_ACCESS_KEY_ID']).toBe('S3RVER');
      await s3.send(new ListBucketsCommand({}));
      expect(await ensureObjectLockBucket(s3, 'locked', { mode: 'GOVERNANCE', days: 3 })).toEqual({ created: true });
      expect(await ensureObjectLockBucket(s3, 'locked', { mode: 'GOVERNANCE', days: 3 })).toEqual({ created: false });
      const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'locked' }));
      expect(lock.ObjectLockConfiguration).toEqual({
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 3 } },
      });
    } finally {
      s3.destroy();
    }
  });

  it('reports a daemon that dies while it serves, and stop() leaves none running', async () => {
    const daemons = await cephDaemonsOf(dataDir);
    const gateway = [...daemons].find(([, cmd]) => cmd.includes('radosgw'));
    expect(gateway, [...daemons.values()].join('\n')).toBeDefined();
    process.kill(gateway?.[0] as number, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (unexpected.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(unexpected).toEqual([expect.stringMatching(/^the RADOS gateway's radosgw killed by SIGKILL$/)]);
    await aws?.stop();
    expect([...(await cephDaemonsOf(dataDir)).values()]).toEqual([]);
    expect(unexpected, 'a stop is not reported as a failure').toHaveLength(1);
  });
});
