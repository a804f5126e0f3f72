/**
 * The temporary files the CLI has open (a download's `.partial`), so that a second Ctrl-C, which
 * exits at once without unwinding (main.ts), still removes them: nothing half-written is left in the
 * auditor's folder. A command registers a path before it creates the file and forgets it once the
 * file is renamed into place or removed.
 */
import { rmSync } from 'node:fs';

const open = new Set<string>();

export const tempFiles = {
  track(path: string): void {
    open.add(path);
  },
  forget(path: string): void {
    open.delete(path);
  },
  /** The paths registered now (for tests). */
  list(): string[] {
    return [...open];
  },
  /** Removes every registered file, synchronously: the process is about to exit. */
  removeAllSync(): void {
    for (const path of open) {
      try {
        rmSync(path, { force: true });
      } catch {
        // Exiting anyway: a file that cannot be removed now cannot be removed later either.
      }
    }
    open.clear();
  },
};
