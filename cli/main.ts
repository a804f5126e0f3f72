/**
 * Entry point of the `archiver` CLI (package.json "bin" → cli/archiver.mjs, which loads this file
 * through tsx). Wires the real process: stdout/stderr, Ctrl-C, AWS credentials, the local stack.
 */
import { fileURLToPath } from 'node:url';
import { SAMPLE_API_KEY, useLocalAwsEnvironment } from '../shared/platform/local-account.js';
import { installInterruptHandlers } from './interrupts.js';
import type { CliIo } from './io.js';
import { runProgram } from './program.js';

const signal = installInterruptHandlers(process);

const io: CliIo = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
  stdout: process.stdout,
  signal,
  now: Date.now,
};

const code = await runProgram(process.argv.slice(2), {
  io,
  target: {
    env: process.env,
    // Loaded on first use: the CloudFormation and Secrets Manager clients are only for --stack.
    readOutputs: async (name, region) => (await import('./aws-access.js')).readStackOutputs(name, region),
    readSecret: async (arn, region) => (await import('./aws-access.js')).readSecretString(arn, region),
    sampleApiKey: SAMPLE_API_KEY,
    isRunning: (pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (err) {
        // EPERM: alive, owned by someone else.
        return err instanceof Error && 'code' in err && err.code === 'EPERM';
      }
    },
    useLocalCredentials: () => useLocalAwsEnvironment(),
    // `npm start` writes .archiver/ in the repository; the CLI may be run from anywhere below it.
    // One in the current folder is trusted only for loopback URLs (stack-target.ts); the repository's own is trusted.
    defaultDataDirs: [
      { path: '.archiver', trusted: false },
      { path: fileURLToPath(new URL('../.archiver', import.meta.url)), trusted: true },
    ],
  },
});
// Let stdout drain (a piped `download -o -`, a long --json) before the exit code is set.
process.stdout.write('', () => process.exit(code));
