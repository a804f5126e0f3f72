import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// `npm start` (local/start.ts) with ARCHIVER_S3=rgw where the gateway cannot run: it must say so in
// one line, with the command that installs it, and exit 1 before it starts or writes anything.
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let dataDir: string | undefined;

afterEach(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function startStack(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, 'local/start.ts'], {
      cwd: repoRoot,
      env: { ...process.env, LOOKUP_PORT: '0', WEBHOOK_PORT: '0', CONSOLE_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm start on the gateway tier where radosgw is not installed', () => {
  it('prints one line with the install command and exits 1, having started nothing', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'archiver-no-rgw-'));
    // A PATH with none of Ceph's programs on it (node itself is started by its full path).
    const emptyBin = join(dataDir, 'empty-bin');
    const run = await startStack({ ARCHIVER_S3: 'rgw', ARCHIVER_DATA_DIR: dataDir, PATH: emptyBin });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      "claude-file-archiver local stack did not start: ARCHIVER_S3=rgw needs Ceph's RADOS Gateway, " +
        'which is not installed; as root: ' +
        'apt-get install --no-install-recommends radosgw ceph-mon ceph-osd ceph-common',
    ]);
    expect(existsSync(join(dataDir, 'stack.json')), 'no stack file was written').toBe(false);
    expect(existsSync(join(dataDir, 'rgw-session')), 'no gateway folder was made').toBe(false);
  });
});
