import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('../support/lifecycle-fixture.ts', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the fixture; `signals` are sent (in order, 300 ms apart) once it printed `ready`. */
function runFixture(mode: string, signals: NodeJS.Signals[] = [], afterReadyMs = 300): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, fixture, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('ready') && signals.length > 0) {
        const pending = signals.splice(0);
        for (const [i, signal] of pending.entries()) setTimeout(() => child.kill(signal), afterReadyMs + i * 300);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

const lastLine = (text: string) => text.trim().split('\n').at(-1) ?? '';

describe.concurrent('local stack process lifecycle', () => {
  it('SIGINT runs the stop function and exits 0', async () => {
    const run = await runFixture('none', ['SIGINT']);
    expect(run.stdout).toContain('stop: SIGINT');
    expect(run.code).toBe(0);
  });

  it('SIGTERM does the same', async () => {
    const run = await runFixture('none', ['SIGTERM']);
    expect(run.stdout).toContain('stop: SIGTERM');
    expect(run.code).toBe(0);
  });

  it('an uncaught exception is logged with its stack, stops the stack and exits 1 with a one-line reason', async () => {
    const run = await runFixture('throw');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('stop: unexpected error: Error: boom in a timer');
    expect(run.stderr).toMatch(/ERROR \[fixture\] unexpected error; stopping the stack .*boom in a timer/);
    expect(run.stderr).toContain('lifecycle-fixture.ts');
    expect(lastLine(run.stderr)).toBe(
      'claude-file-archiver local stack stopped: unexpected error: Error: boom in a timer',
    );
  });

  it('a component failure stops the stack and exits 1 with its reason as the last line', async () => {
    const run = await runFixture('fail');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('stop: the S3 server exited unexpectedly (code 1)');
    expect(lastLine(run.stderr)).toBe(
      'claude-file-archiver local stack stopped: the S3 server exited unexpectedly (code 1)',
    );
  });

  it('an unhandled rejection is logged and the stack keeps serving until it is stopped', async () => {
    const run = await runFixture('reject', ['SIGTERM'], 800);
    expect(run.stderr).toMatch(/unhandled promise rejection; the stack keeps serving .*nobody handled this/);
    expect(run.stdout).toContain('stop: SIGTERM');
    expect(run.code).toBe(0);
  });

  it('a stop that never finishes is cut off at the hard limit with a non-zero exit', async () => {
    const run = await runFixture('slow-stop', ['SIGINT']);
    expect(run.stderr).toContain('could not stop within 1.5 s');
    expect(run.code).toBe(1);
  });

  it('a second Ctrl-C exits at once', async () => {
    const run = await runFixture('slow-stop', ['SIGINT', 'SIGINT']);
    expect(run.stderr).toContain('SIGINT again: exiting now');
    expect(run.code).toBe(130);
  });
});

/**
 * Ctrl-C (or `kill -TERM -- -PID`) signals the whole foreground process group, not one process. The
 * S3 server runs as a child of the local stack; it must stay up while the stack drains its running
 * jobs, and stop only when the stack stops it. The stand-in parent is spawned as the leader of its
 * own group, as a shell starts a foreground job, and the signal goes to the group.
 */
describe.concurrent('the S3 server child and a signal to the process group', () => {
  const parentScript = fileURLToPath(new URL('../support/s3rver-parent-process.ts', import.meta.url));

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`outlives the parent's drain when ${signal} reaches the whole group, then stops with it`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'archiver-s3rver-group-'));
      const parent = spawn(process.execPath, ['--import', tsx, parentScript, dir, '--drain'], {
        stdio: ['ignore', 'pipe', 'inherit'],
        detached: true,
      });
      const killer = setTimeout(() => parent.kill('SIGKILL'), 20_000);
      try {
        const lines = createInterface({ input: parent.stdout });
        const exited = new Promise<number | null>((resolve) => parent.once('exit', (code) => resolve(code)));
        const iterator = lines[Symbol.asyncIterator]();
        const first = JSON.parse(String((await iterator.next()).value)) as { pid: number; port: number };
        process.kill(-(parent.pid ?? 0), signal);
        const second = JSON.parse(String((await iterator.next()).value)) as { duringDrain: string };
        expect(second.duringDrain).toBe('open');
        expect(await exited).toBe(0);
        // Stopped by its parent after the drain: nothing left running.
        let alive = true;
        for (let i = 0; i < 100 && alive; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          try {
            process.kill(first.pid, 0);
          } catch {
            alive = false;
          }
        }
        expect(alive).toBe(false);
      } finally {
        clearTimeout(killer);
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
