import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `archiver` started by a Node older than 24 (an operator's own `node`, under `npx archiver`): one line
// that names the Node it needs and how to run it, exit 1, nothing started. The old Node is simulated by
// preloading a module that rewrites process.version(s) before cli/archiver.mjs reads them.
const entry = fileURLToPath(new URL('../../cli/archiver.mjs', import.meta.url));
const pretend = (version: string) =>
  `data:text/javascript,${encodeURIComponent(
    `Object.defineProperty(process.versions, 'node', { value: '${version}' ` +
      `}); Object.defineProperty(process, 'version', { value: 'v${version}' ` +
      `});`,
  )}`;

describe('archiver on an older Node', () => {
  it.each(['20.20.2', '22.5.1'])('on Node %s prints one line naming Node 24 and how to run it, and exits 1', (v) => {
    const run = spawnSync(process.execPath, ['--import', pretend(v), entry, 'status'], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')).toEqual([
      `archiver needs Node 24 or later, and this is Node v${v}: run ` +
        `it as "npm run --silent archiver -- <command>" in the repository ` +
        `(after "npm ci"), or put Node 24 first on your PATH`,
      '',
    ]);
  });

  it('on Node 24 runs the CLI', () => {
    const run = spawnSync(process.execPath, [entry, '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: archiver');
  });
});
