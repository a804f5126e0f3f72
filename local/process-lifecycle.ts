/**
 * How the local stack's process ends. Ctrl-C (SIGINT) or SIGTERM stops it cleanly: the stop function
 * lets running jobs finish within its own bound, and the process exits 0; a second signal exits at
 * once. An uncaught exception, or a component reporting that it failed, is logged with its context and
 * stops the stack the same way, then the process exits 1 after one line saying why. A promise rejection
 * nobody handled is logged with its stack, and the stack keeps serving: it leaves no state half-changed.
 * Nothing is lost by stopping: the queue, the index and the archive are on disk, and the next start
 * retries what was running (see crash-recovery.ts).
 */
import { describeError } from '../shared/platform/errors.js';
import type { Log } from '../shared/platform/telemetry.js';

export interface ProcessLifecycle {
  /** What stopping does, once the stack is up; before that, a signal or a failure exits at once. */
  setStop(stop: (reason: string) => Promise<void>): void;
  /** A component failed in a way the stack cannot serve through: stop, then exit 1 with `reason`. */
  fail(reason: string): void;
}

export function manageProcessLifecycle(
  log: Log,
  opts: { hardLimitMs?: number; exit?: (code: number) => never } = {},
): ProcessLifecycle {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const hardLimitMs = opts.hardLimitMs ?? 60_000;
  let stop: ((reason: string) => Promise<void>) | undefined;
  let ending = false;

  const end = (reason: string, exitCode: number): void => {
    if (ending) return;
    ending = true;
    const finish = (code: number): never => {
      // The one line an operator reads last: why a non-zero exit happened.
      if (code !== 0) console.error(`claude-file-archiver local stack stopped: ${reason}`);
      return exit(code);
    };
    if (!stop) {
      finish(exitCode);
      return;
    }
    const hard = setTimeout(() => {
      log.error(`could not stop within ${hardLimitMs / 1000} s; exiting anyway`);
      finish(exitCode === 0 ? 1 : exitCode);
    }, hardLimitMs);
    hard.unref();
    stop(reason).then(
      () => finish(exitCode),
      (err: unknown) => {
        log.error('stopping failed', { error: describeError(err) });
        finish(exitCode === 0 ? 1 : exitCode);
      },
    );
  };

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (ending) {
        log.warn(`${signal} again: exiting now; jobs still running are retried at the next start`);
        exit(130);
      }
      end(signal, 0);
    });
  }
  process.on('uncaughtException', (err: unknown, origin: string) => {
    log.error('unexpected error; stopping the stack', {
      origin,
      error: describeError(err),
      stack: err instanceof Error ? err.stack : undefined,
    });
    end(`unexpected error: ${describeError(err)}`, 1);
  });
  process.on('unhandledRejection', (reason: unknown) => {
    log.error('unhandled promise rejection; the stack keeps serving', {
      error: describeError(reason),
      stack: reason instanceof Error ? reason.stack : undefined,
    });
  });

  return {
    setStop(fn) {
      stop = fn;
    },
    fail(reason) {
      log.error(`${reason}; stopping the stack`);
      end(reason, 1);
    },
  };
}
