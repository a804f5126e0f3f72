import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The use-case folders import no AWS SDK: their ports are implemented by adapters that live with the
// technology (shared/index/ for DynamoDB, shared/platform/ for SQS, shared/archive/ for S3). The check
// follows relative imports, so a use case that reaches the SDK through an adapter (say, by importing
// an error class from it) fails too, not only a direct `from '@aws-sdk/...'`.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SDK_FREE_FOLDERS = [
  'shared/contracts',
  'shared/ingest',
  'shared/lookup',
  'shared/discovery',
  'shared/webhook',
  'shared/holds',
  'shared/fixity',
];

const IMPORT_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

/** Every module specifier a TypeScript source names in an import or export, type-only ones included. */
function importsOf(source: string): string[] {
  return [...source.matchAll(IMPORT_SPECIFIER)].map((m) => m[1] ?? '');
}

function tsFilesUnder(folder: string): string[] {
  return readdirSync(join(repoRoot, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(repoRoot, folder, name));
}

/** The chain of files from `file` to one that imports @aws-sdk, or undefined when there is none. */
function sdkImportChain(file: string, seen = new Set<string>()): string[] | undefined {
  if (seen.has(file)) return undefined;
  seen.add(file);
  for (const spec of importsOf(readFileSync(file, 'utf8'))) {
    if (spec.startsWith('@aws-sdk/')) return [relative(repoRoot, file), spec];
    if (!spec.startsWith('.')) continue;
    const chain = sdkImportChain(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), seen);
    if (chain) return [relative(repoRoot, file), ...chain];
  }
  return undefined;
}

describe('layout: use cases import no AWS SDK', () => {
  it('finds imports of every form the scanner must catch', () => {
    const found = importsOf(
      [
        "import { GetCommand } from '@aws-sdk/lib-dynamodb';",
        "import type { SQSClient } from '@aws-sdk/client-sqs';",
        "export { x } from './adapter.js';",
        "import './side-effect.js';",
        "const m = await import('@aws-sdk/client-s3');",
      ].join('\n'),
    );
    expect(found).toEqual([
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-sqs',
      './adapter.js',
      './side-effect.js',
      '@aws-sdk/client-s3',
    ]);
  });

  it('flags a chain through a relative import (an adapter reached from a use case)', () => {
    expect(sdkImportChain(join(repoRoot, 'shared/index/dynamodb-file-index.ts'))?.at(-1)).toMatch(/^@aws-sdk\//);
  });

  for (const folder of SDK_FREE_FOLDERS) {
    it(`${folder}/ reaches no @aws-sdk module, directly or through its imports`, () => {
      const files = tsFilesUnder(folder);
      expect(files.length).toBeGreaterThan(0);
      const offenders = files.map((f) => sdkImportChain(f)).filter((chain) => chain !== undefined);
      expect(offenders.map((chain) => chain.join(' -> '))).toEqual([]);
    });
  }
});
