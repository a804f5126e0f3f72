/**
 * The CLI's exit codes, one meaning each, so scripts can branch on them (docs/cli.md lists
 * them, and every command's --help repeats them).
 */
export const EXIT = {
  /** Done, nothing wrong found. */
  ok: 0,
  /** The command could not do its job (an AWS or network error, a missing file, a refused request). */
  failure: 1,
  /** The command line is wrong (unknown option, missing argument, invalid id or date). */
  usage: 2,
  /** The command worked and found a problem: a failed verification, a ledger gap, dead letters, a stalled poller. */
  problem: 3,
  /** Interrupted (Ctrl-C); a backfill resumes where it stopped when run again. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The text every --help ends with. */
export const EXIT_CODES_HELP = `
Exit codes:
  0    ok
  1    failure (AWS, network or upstream error; nothing found where something must be)
  2    usage error (unknown option, missing or invalid argument)
  3    found a problem (verification failed, ledger gap, dead letters, stalled poller)
  130  interrupted (backfill resumes from its checkpoint when run again)`;

/** A failure whose message is meant for the operator as it stands: printed as one line, no stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The command line is wrong. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}
