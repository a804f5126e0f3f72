/** What a command writes to and reads from; tests give their own. */
export interface CliIo {
  /** A line (or block) of results on stdout. */
  out(text: string): void;
  /** A line of diagnostics on stderr. */
  err(text: string): void;
  /** Raw stdout, for the progress display and `download -o -`. */
  stdout: NodeJS.WritableStream & { isTTY?: boolean | undefined; columns?: number | undefined };
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal;
  now(): number;
}
