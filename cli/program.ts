/**
 * The `archiver` command line: commander parses, each command module does the work. Errors become
 * one line on stderr and an exit code (exit-codes.ts); nothing here prints a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT, EXIT_CODES_HELP, CliError } from './exit-codes.js';
import type { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import { resolveTarget } from './stack-target.js';
import type { StackTarget, TargetDeps, TargetOptions } from './stack-target.js';
import { registerCommands } from './commands/index.js';
import { safeBlock } from './terminal-text.js';

export interface ProgramDeps {
  io: CliIo;
  target: TargetDeps;
}

/** What a command's action is handed: the stack (resolved on first use) and where to write. */
export interface CommandContext {
  io: CliIo;
  target(): StackTarget;
}

const TARGET_HELP = `
Which stack:
  by default the local stack that "npm start" runs (its .archiver/stack.json, or --data-dir,
  or ARCHIVER_DATA_DIR); --stack ENV for a deployed one (CloudFormation stacks
  claude-file-archiver-ENV-data and -service, read with your AWS credentials); --lookup-url URL for
  the lookup API alone (lookup, download), for auditors who may call the API but not CloudFormation.
  A flag beats its variable (ARCHIVER_STACK, ARCHIVER_LOOKUP_URL). A .archiver/stack.json found in
  the current folder is used only if every URL in it is on this machine (loopback).
  The upstream (backfill, enqueue <chatId>) is the stack's own: its UpstreamBaseUrl output or the
  local stack file; only --upstream-url changes it.`;

/**
 * The io every command gets: each line of text through safeBlock (terminal-text.ts), so whatever a
 * command prints (a file name, a name inside an error, a dead letter's reason) reaches the terminal
 * with its control characters escaped. Only the raw stream (`download -o -`, the progress display,
 * commander's help) is written as is.
 */
function terminalSafe(io: CliIo): CliIo {
  return { ...io, out: (text) => io.out(safeBlock(text)), err: (text) => io.err(safeBlock(text)) };
}

export function buildProgram(rawDeps: ProgramDeps): Command {
  const deps: ProgramDeps = { ...rawDeps, io: terminalSafe(rawDeps.io) };
  const program = new Command('archiver');
  program
    .description(
      'Operate and audit a claude-file-archiver stack: enqueue, backfill, ' +
        'status, dead letters, lookups, verified downloads, the discovery ' +
        'ledger.',
    )
    .addOption(
      new Option('--stack <env>', 'a deployed stack, by its environment name (e.g. prod)').env('ARCHIVER_STACK'),
    )
    .addOption(
      new Option('--region <region>', 'AWS region of the deployed stack (default: from your AWS configuration)'),
    )
    .addOption(
      new Option('--lookup-url <url>', "a deployed lookup API's URL (the LookupApiUrl output), instead of --stack").env(
        'ARCHIVER_LOOKUP_URL',
      ),
    )
    .addOption(
      new Option('--data-dir <dir>', "the local stack's data folder (default: ARCHIVER_DATA_DIR or .archiver)"),
    )
    .addOption(
      new Option(
        '--upstream-url <url>',
        "where backfill and enqueue <chatId> send the stack's API key " +
          "(default: the stack's own upstream, never ANTHROPIC_BASE_URL)",
      ),
    )
    .configureOutput({
      writeOut: (s) => deps.io.stdout.write(s),
      writeErr: (s) => deps.io.err(s.replace(/\n$/, '')),
      // One line: "archiver: unknown option '--x' (see --help)".
      outputError: (s, write) => write(`${s.trim().replace(/^error: /, 'archiver: ')} (see --help)\n`),
    })
    .exitOverride()
    .addHelpText('after', `${TARGET_HELP}\n${EXIT_CODES_HELP}`);

  let target: StackTarget | undefined;
  const ctx = (cmd: Command): CommandContext => ({
    io: deps.io,
    target: () =>
      (target ??= resolveTarget(
        {
          ...cmd.optsWithGlobals<TargetOptions>(),
          stackSource: sourceOf(cmd, 'stack'),
          lookupUrlSource: sourceOf(cmd, 'lookupUrl'),
        },
        deps.target,
      )),
  });
  registerCommands(program, ctx, deps.target.env);
  for (const cmd of allCommands(program)) {
    if (cmd !== program) cmd.addHelpText('after', EXIT_CODES_HELP);
  }
  return program;
}

/** Whether an option's value was typed (`cli`) or taken from its environment variable (`env`). */
function sourceOf(cmd: Command, key: string): 'cli' | 'env' | undefined {
  const source = cmd.getOptionValueSourceWithGlobals(key);
  return source === 'env' ? 'env' : source === 'cli' ? 'cli' : undefined;
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

/** Runs the program on `argv` (without node and script) and returns the exit code. */
export async function runProgram(argv: string[], deps: ProgramDeps): Promise<ExitCode> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    return exitCodeOf(err, terminalSafe(deps.io));
  }
}

function exitCodeOf(err: unknown, io: CliIo): ExitCode {
  if (err instanceof CommanderError) {
    // Commander already printed its message (or the help).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    return EXIT.usage;
  }
  if (io.signal.aborted && !(err instanceof CliError)) {
    io.err('archiver: interrupted');
    return EXIT.interrupted;
  }
  if (err instanceof CliError) {
    io.err(`archiver: ${err.message}`);
    return err.exitCode;
  }
  // Anything else is a bug or an unmapped failure: still one line, with the error's name to search for.
  const message = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err);
  io.err(`archiver: ${message}`);
  return EXIT.failure;
}
