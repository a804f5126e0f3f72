/**
 * Ctrl-C and SIGTERM for the CLI: the first asks the running command to stop cleanly (its abort
 * signal; a backfill checkpoints, a download removes its partial file); a second exits at once with
 * 130, after removing the temporary files still open (temp-files.ts), so nothing half-written stays.
 */
import { EXIT } from './exit-codes.js';
import { tempFiles } from './temp-files.js';

export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  exit(code: number): never | void;
}

export function installInterruptHandlers(proc: SignalSource): AbortSignal {
  const interrupt = new AbortController();
  let interrupts = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    proc.on(signal, () => {
      interrupts += 1;
      if (interrupts > 1) {
        // A second Ctrl-C does not wait for the command to stop cleanly, but leaves no partial file.
        tempFiles.removeAllSync();
        proc.exit(EXIT.interrupted);
        return;
      }
      interrupt.abort(new Error(`interrupted by ${signal}`));
    });
  }
  return interrupt.signal;
}
