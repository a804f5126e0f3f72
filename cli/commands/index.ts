/** Declares every command, its arguments, options and help; the work is in the command modules. */
import type { Command } from 'commander';
import type { CommandContext } from '../program.js';
import { runDownload } from './download.js';
import { runLookup } from './lookup.js';

export function registerCommands(program: Command, ctx: (cmd: Command) => CommandContext): void {
  program
    .command('lookup')
    .description("show a file's record, or every file of a chat, from the lookup API")
    .option('--chat <chatId>', 'every file of this chat, in upstream creation order')
    .option('--file <fileId>', "this file's record: status, size, md5, sha256, S3 key and version, timestamps")
    .option('--json', 'print the API\'s JSON: the record, or {"chatId", "files": [...]} with every page')
    .addHelpText('after', '\nExamples:\n  archiver lookup --chat claude_chat_01SampleQuarterlyReview\n  archiver lookup --file claude_gen_file_01SampleQ3RevenueCsv --json')
    .action(async (opts: { chat?: string; file?: string; json?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      await runLookup(opts, c.target(), c.io);
    });

  program
    .command('download')
    .description('download the archived copy and re-verify its SHA-256 (and MD5 and size) against the index on the way')
    .argument('<fileId>', 'the file to download')
    .option('-o, --output <path>', "where to write it (default: the file's name in the current folder; - for stdout)")
    .option('--force', 'overwrite the output file if it exists')
    .option('--keep-unverified', 'on a mismatch keep the bytes as <path>.unverified for inspection')
    .option('--json', 'print {fileId, path, verified, bytes, sha256, md5, expected, mismatches}')
    .addHelpText('after', '\nA copy that fails verification exits 3 and is not written under its name.\n\nExample:\n  archiver download claude_gen_file_01SampleQ3RevenueCsv -o q3.csv')
    .action(async (fileId: string, opts: { output?: string; force?: boolean; keepUnverified?: boolean; json?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      await runDownload(fileId, opts, c.target(), c.io);
    });
}
