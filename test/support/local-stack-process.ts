/**
 * Runs the real local stack (local/start.ts, what `npm start` runs) as a child process on its own data
 * folder, for tests that kill and restart it. It is started as `node --import tsx local/start.ts`, the
 * command `npm start` runs minus npm and its shell, so that a signal sent to the child reaches the
 * stack itself: a SIGKILL sent to `npm` would leave the stack running as an orphan. `viaNpmStart`
 * runs `npm start` itself, for the test of what a terminal's Ctrl-C does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readStackInfo, type StackInfo } from '../../shared/platform/local-stack-file.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface LocalStackProcess {
  child: ChildProcess;
  info: StackInfo;
  /** Everything the stack printed so far, stdout and stderr interleaved. */
  output(): string;
  /** SIGKILL: no handler runs, nothing is flushed or stopped. */
  kill(): Promise<void>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * Sends `signal` to the stack's whole process group, as a terminal's Ctrl-C or `kill -TERM -- -PID`
   * does (only for a stack started with `ownGroup`), and resolves with the exit code.
   */
  stopGroup(signal: NodeJS.Signals): Promise<number | null>;
}

/** Starts the stack and resolves once it printed its banner and wrote its stack file. */
export async function startLocalStackProcess(opts: {
  dataDir: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Start it as the leader of its own process group, as a shell starts a foreground job. */
  ownGroup?: boolean;
  /**
   * Start it with `npm start` itself (npm, its shell and the script package.json names), as a user
   * does; a signal must then go to the group (`ownGroup`), as a terminal's Ctrl-C does.
   */
  viaNpmStart?: boolean;
}): Promise<LocalStackProcess> {
  // npm_execpath is the npm (or npx) that runs this test run; its `start` runs the script as typed.
  const npmCli = process.env['npm_execpath'];
  const [command, args] = opts.viaNpmStart
    ? npmCli
      ? [process.execPath, [npmCli, 'start']]
      : ['npm', ['start']]
    : [process.execPath, ['--import', tsx, 'local/start.ts']];
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: {
      ...process.env,
      ARCHIVER_DATA_DIR: opts.dataDir,
      LOOKUP_PORT: '0',
      WEBHOOK_PORT: '0',
      CONSOLE_PORT: '0',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.ownGroup ?? false,
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit');
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (!output.includes('is running locally')) {
    if (child.exitCode !== null)
      throw new Error(`the stack exited (code ${child.exitCode}) before it was up:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the stack did not come up in time:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const info = await readStackInfo(opts.dataDir);
  return {
    child,
    info,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
    async stopGroup(signal) {
      if (!opts.ownGroup || child.pid === undefined) throw new Error('stopGroup needs a stack started with ownGroup');
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
