/**
 * `npm run smoke`: the first thing to run after `cdk deploy`, and a check of the local stack.
 *
 *   npm run smoke -- --stack prod --file-id claude_gen_file_…     a deployed stack (AWS credentials)
 *   npm run smoke                                                 the local stack (`npm start`)
 *
 * Sends one ingest job, waits for the file's record, checks its hashes, downloads the file through
 * the lookup API (SigV4) and re-verifies the downloaded bytes; prints PASS or FAIL for each step and
 * exits 0 only when every step passed (1 when one failed, 2 on a usage error).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeError, runSmoke } from './smoke-run.js';
import { resolveDeployedTarget, resolveLocalTarget } from './smoke-target.js';
import type { SmokeTarget } from './smoke-target.js';

const USAGE =
  'usage: npm run smoke -- [--stack ENV [--region REGION]] [--file-id ID] ' +
  '[--chat CHAT_ID] [--sha256 HEX] [--timeout SECONDS]' +
  `

  --stack ENV      a deployed stack by its environment name (archiver:environment); without it, the
                   local stack that "npm start" runs (ARCHIVER_DATA_DIR, default .archiver)
  --file-id ID     the file to archive (or ARCHIVER_SMOKE_FILE_ID); the local sample upstream has a default
  --chat CHAT_ID   the chat the file belongs to, passed in the job
  --sha256 HEX     the file's known SHA-256, checked against the record as well
  --timeout SEC    how long to wait for the record (default 300)`;

const EXIT = { passed: 0, failed: 1, usage: 2 } as const;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        stack: { type: 'string' },
        region: { type: 'string' },
        'file-id': { type: 'string' },
        chat: { type: 'string' },
        sha256: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    console.error(`${describeError(err)}\n${USAGE}`);
    return EXIT.usage;
  }
  if (args.help) {
    console.log(USAGE);
    return EXIT.passed;
  }
  const timeoutSeconds = Number(args.timeout ?? '300');
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
    console.error(`--timeout must be a whole number of seconds, not "${args.timeout}"\n${USAGE}`);
    return EXIT.usage;
  }
  if (args.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(args.sha256)) {
    console.error('--sha256 must be 64 hex digits');
    return EXIT.usage;
  }

  const where = args.stack === undefined ? 'the local stack' : `stack ${args.stack}`;
  console.log(`smoke test of ${where}`);
  let target: SmokeTarget;
  try {
    target =
      args.stack === undefined
        ? await resolveLocalTarget(resolve(process.env['ARCHIVER_DATA_DIR'] ?? '.archiver'))
        : await resolveDeployedTarget(args.stack, args.region);
  } catch (err) {
    printStep('find the stack', false, describeError(err));
    return EXIT.failed;
  }
  printStep('find the stack', true, `${target.label}: ${target.endpoints}`);

  const fileId = args['file-id'] ?? process.env['ARCHIVER_SMOKE_FILE_ID'] ?? target.defaultFileId;
  if (!fileId) {
    console.error(
      'give the file to archive with --file-id (or ARCHIVER_SMOKE_FILE_ID): ' +
        'any file of your organization, a small one is best',
    );
    return EXIT.usage;
  }
  const passed = await runSmoke(
    target,
    {
      fileId,
      chatId: args.chat,
      sha256: args.sha256,
      timeoutMs: timeoutSeconds * 1000,
      pollMs: target.kind === 'local' ? 250 : 2000,
    },
    printStep,
  );
  console.log(passed ? 'smoke test PASSED' : 'smoke test FAILED');
  return passed ? EXIT.passed : EXIT.failed;
}

function printStep(step: string, ok: boolean, detail: string): void {
  console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${step.padEnd(16)} ${detail}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(describeError(err));
    process.exit(EXIT.failed);
  },
);
