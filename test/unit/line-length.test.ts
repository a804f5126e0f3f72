import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Lines are kept to this many characters (Biome formats at the same width). */
const MAX_LENGTH = 120;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The only lines allowed over MAX_LENGTH, by file and a fragment of the line: each one could not be wrapped without
 * changing what it is or does.
 */
const ALLOWED: readonly { file: string; contains: string; why: string }[] = [
  // URLs longer than the line on their own: split, they would no longer be links.
  {
    file: 'console/src/api/signing.ts',
    contains: 'api-gateway-control-access-using-iam-policies-to-invoke-api.html',
    why: 'a URL',
  },
  { file: 'infra/constructs/webhook-store.ts', contains: '#WorkingWithTables.Basics.DeletionProtection', why: 'a URL' },
  {
    file: 'infra/service-stack.ts',
    contains: 'object-lock-managing.html#object-lock-managing-permissions',
    why: 'a URL',
  },
  // JSX text laid out by Biome: wrapping it by hand changes the JSX whitespace or is joined again by the formatter.
  { file: 'console/src/screens/coverage.tsx', contains: 'aria-hidden="true" /> covered <span', why: 'JSX text' },
  { file: 'console/src/screens/coverage.tsx', contains: '{c.source}: {c.runs.length} runs,', why: 'JSX text' },
  // Regular expression literals: rebuilding them with new RegExp would mean re-escaping every backslash.
  {
    file: 'test/infra/deployed-permissions.test.ts',
    contains: '/lookup role is not allowed s3:PutObject on arn:aws:s3:::',
    why: 'a regex literal',
  },
  {
    file: 'test/infra/least-privilege.suite.ts',
    contains: '/^\\{"Fn::Join":\\["",\\[\\{"Fn::GetStackOutput"',
    why: 'a regex literal',
  },
  {
    file: 'test/integration/cli-lookup-sigv4.test.ts',
    contains: '/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE',
    why: 'a regex literal',
  },
  {
    file: 'test/integration/console-sigv4.test.ts',
    contains: '/^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLECONSOLE',
    why: 'a regex literal',
  },
  { file: 'test/unit/cli-program.test.ts', contains: '/^archiver: no local stack is running', why: 'a regex literal' },
  { file: 'test/unit/smoke-run.test.ts', contains: '/^AWS4-HMAC-SHA256 Credential=S3RVER', why: 'a regex literal' },
  {
    file: 'test/unit/smoke-run.test.ts',
    contains: '/^FAIL verify download: the downloaded bytes',
    why: 'a regex literal',
  },
];

function trackedSources(): string[] {
  return execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.tsx', '*.mjs'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && !/(^|\/)(node_modules|cdk\.out)\//.test(f));
}

/** `file:line (length)` for every line of the given files over MAX_LENGTH characters (code points) and not allowed. */
function longLines(files: readonly string[], root = ROOT): string[] {
  const found: string[] = [];
  for (const file of files) {
    const lines = readFileSync(join(root, file), 'utf8').split(/\r?\n/);
    lines.forEach((line, i) => {
      const length = [...line].length;
      if (length <= MAX_LENGTH) return;
      if (ALLOWED.some((a) => a.file === file && line.includes(a.contains))) return;
      found.push(`${file}:${i + 1} (${length})`);
    });
  }
  return found;
}

describe('line length', () => {
  it(`keeps every tracked .ts, .tsx and .mjs line to ${MAX_LENGTH} characters, but for the allow-list`, () => {
    expect(longLines(trackedSources())).toEqual([]);
  });

  it('allows only lines that are still there and still too long', () => {
    const stale = ALLOWED.filter(
      (a) =>
        !readFileSync(join(ROOT, a.file), 'utf8')
          .split(/\r?\n/)
          .some((line) => line.includes(a.contains) && [...line].length > MAX_LENGTH),
    );
    expect(stale).toEqual([]);
  });
});
