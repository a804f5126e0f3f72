/**
 * The parent side of s3rver: forks s3rver-process.ts (which runs s3rver with the flag it needs) and
 * stops it. The child exits when this process stops it, exits or dies.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LOOPBACK_HOST } from '../loopback.js';
import { callOnce, type RunningServer } from './running-server.js';
import type { S3rverReadyMessage } from './s3rver-process.js';

/** s3rver runs in a child process; its pid lets a caller check that it is gone. */
export interface S3rverServer extends RunningServer {
  pid: number;
}

/**
 * Starts s3rver in a child process (it needs `--openssl-legacy-provider`, see s3rver-process.ts),
 * storing objects under `directory` (a temporary directory, removed on stop, when absent).
 */
export async function startS3rver(
  opts: {
    directory?: string;
    port?: number;
    /** A file to which each object written or deleted is appended as one JSON line. */
    writeLog?: string;
    /** Called when the child exits although stop() was not called. */
    onUnexpectedExit?: (reason: string) => void;
  } = {},
): Promise<S3rverServer> {
  const temporary = opts.directory === undefined;
  const directory = opts.directory ?? (await mkdtemp(join(tmpdir(), 'archiver-s3rver-')));
  await mkdir(directory, { recursive: true });

  const script = fileURLToPath(new URL('./s3rver-process.ts', import.meta.url));
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const args = [
    '--directory',
    directory,
    '--port',
    String(opts.port ?? 0),
    ...(opts.writeLog ? ['--write-log', opts.writeLog] : []),
  ];
  const child = fork(script, args, {
    execArgv: ['--import', tsxLoader],
    env: {
      ...process.env,
      NODE_OPTIONS: [process.env.NODE_OPTIONS, '--openssl-legacy-provider'].filter(Boolean).join(' '),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Its own process group: Ctrl-C in a terminal (or `kill -TERM -- -PID`) signals the whole
    // foreground group, and the S3 server must outlive the parent's drain of running jobs. It stops
    // when the parent stops it, or when the IPC channel closes (the parent exited or died).
    detached: true,
  });

  let port: number;
  try {
    port = await waitForS3rverReady(child, 20_000);
    if (child.pid === undefined) throw new Error('s3rver child has no pid');
  } catch (err) {
    child.kill('SIGKILL');
    if (temporary) await rm(directory, { recursive: true, force: true });
    throw err;
  }
  // Neither the child nor its IPC channel should keep this process alive: stop() is the clean path,
  // and the child exits by itself when the channel closes.
  child.unref();
  child.channel?.unref();
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping)
      opts.onUnexpectedExit?.(
        `the S3 server (s3rver, pid ${child.pid}) exited unexpectedly (code ${code}, signal ${signal})`,
      );
  });

  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    port,
    pid: child.pid,
    stop: callOnce(async () => {
      stopping = true;
      await stopChild(child, 5_000);
      if (temporary) await rm(directory, { recursive: true, force: true });
    }),
  };
}

function waitForS3rverReady(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`s3rver did not start within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: unknown): void => {
      if (isS3rverReady(message)) finish(message.port);
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`s3rver exited before it was ready (code ${code}, signal ${signal})`));
    const onError = (err: Error): void => finish(err);
    function finish(result: number | Error): void {
      clearTimeout(timer);
      child.off('message', onMessage).off('exit', onExit).off('error', onError);
      if (typeof result === 'number') resolve(result);
      else reject(result);
    }
    child.on('message', onMessage).on('exit', onExit).on('error', onError);
  });
}

function isS3rverReady(message: unknown): message is S3rverReadyMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    'type' in message &&
    message.type === 's3rver-ready' &&
    'port' in message &&
    typeof message.port === 'number'
  );
}

async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Closing the IPC channel is the child's cue to close its server and exit.
  if (child.connected) child.disconnect();
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}
