/**
 * Running Ceph's programs for rados-gateway.ts: one-shot tools with a time limit, and long-running
 * daemons that never outlive the process that started them.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** A daemon started by spawnDaemon; `exited` is set once it has gone, with its code or signal. */
export interface Daemon {
  name: string;
  process: ChildProcess;
  logFile: string;
  /** The last few KB the daemon wrote to stderr (startup errors before its log file is open). */
  stderrTail(): string;
  exited?: string;
}

/** Every daemon still running, killed synchronously when this process exits for any reason it can see. */
const running = new Set<Daemon>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' runs on a normal exit, process.exit() and after an uncaught exception. A SIGKILL or a
  // crash of this process is covered by the parent-death signal set in spawnDaemon.
  process.on('exit', () => {
    for (const daemon of running) killDaemon(daemon);
  });
}

// setpriv (util-linux, always on Debian) sets PR_SET_PDEATHSIG before it execs the daemon: the kernel
// sends the daemon SIGKILL when the thread that spawned it (Node's main thread) ends, however this
// process dies. Ceph's daemons do not fork in the foreground mode (-f) used here, so the signal
// reaches the daemon itself.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => existsSync(file));

/**
 * Starts `program args` in the foreground. Its own log goes to `logFile` (set in ceph.conf); stdout
 * is discarded and stderr kept in memory. The child is unref'd: a daemon left running must never hold
 * the process open (the exit hook kills it instead). It runs in its own process group, as s3rver does
 * (local/aws/s3rver-server.ts): a terminal's Ctrl-C signals the whole foreground group, and S3 must
 * outlive `npm start`'s drain of running jobs; the parent stops it, or the parent-death signal does.
 * `onExit` is called when it exits, whatever the reason.
 */
export function spawnDaemon(
  name: string,
  program: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv,
  onExit?: (daemon: Daemon) => void,
): Daemon {
  installExitHook();
  const [command, commandArgs] = SETPRIV
    ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', program, ...args]]
    : [program, args];
  const child = spawn(command, commandArgs, { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  const daemon: Daemon = { name, process: child, logFile, stderrTail: () => stderr };
  running.add(daemon);
  const onGone = (how: string): void => {
    if (daemon.exited !== undefined) return;
    daemon.exited = how;
    running.delete(daemon);
    onExit?.(daemon);
  };
  child.on('exit', (code, signal) => onGone(signal ? `killed by ${signal}` : `exited with code ${code}`));
  child.on('error', (err) => onGone(`could not start: ${err.message}`));
  child.unref();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  return daemon;
}

/**
 * SIGKILL, not SIGTERM: the cluster's state is thrown away anyway, and on SIGTERM the OSD first tells
 * the monitor it is going down, waiting 5 s for an answer if the monitor has already gone.
 */
export function killDaemon(daemon: Daemon): void {
  running.delete(daemon);
  if (daemon.exited !== undefined || daemon.process.exitCode !== null) return;
  try {
    daemon.process.kill('SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Kills the daemons and resolves once every one of them has exited (at most `timeoutMs`). */
export async function stopDaemons(daemons: Daemon[], timeoutMs = 10_000): Promise<void> {
  await Promise.all(
    daemons.map((daemon) => {
      if (daemon.exited !== undefined) return Promise.resolve();
      const gone = new Promise<void>((resolve) => {
        daemon.process.once('exit', () => resolve());
        daemon.process.once('error', () => resolve());
      });
      killDaemon(daemon);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      return Promise.race([gone, timeout]).finally(() => clearTimeout(timer));
    }),
  );
}

export interface ToolResult {
  stdout: string;
  stderr: string;
}

/** Runs a one-shot tool; rejects with its stderr when it fails or outlives `timeoutMs`. */
export function runTool(
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const why = err.killed ? `did not finish in ${timeoutMs / 1000} s` : `failed (${err.code ?? err.signal})`;
        reject(new Error(`${[program, ...args].join(' ')} ${why}\n${stderr.slice(-2000)}`));
      },
    );
  });
}

/** The last `lines` lines of a file, or a note that it does not exist yet. */
export async function tailOf(file: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every `intervalMs` until it returns true. Fails when `deadline` passes or `stillAlive`
 * reports a reason to give up (a daemon that exited), whichever comes first.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs: number; stillAlive: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const dead = opts.stillAlive();
    if (dead) throw new Error(`${what}: ${dead}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${opts.timeoutMs / 1000} s`);
    await sleep(opts.intervalMs);
  }
}
