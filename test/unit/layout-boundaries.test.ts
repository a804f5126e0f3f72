import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** The chain of files from `file` to one under one of `folders` (relative paths), following relative imports. */
function chainInto(file: string, folders: string[], seen = new Set<string>()): string[] | undefined {
  if (seen.has(file)) return undefined;
  seen.add(file);
  const rel = relative(repoRoot, file);
  if (folders.some((f) => rel.startsWith(`${f}/`))) return [rel];
  for (const spec of importsOf(readFileSync(file, 'utf8'))) {
    if (!spec.startsWith('.')) continue;
    const chain = chainInto(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), folders, seen);
    if (chain) return [rel, ...chain];
  }
  return undefined;
}

describe('layout: the CLI stands on shared/ alone', () => {
  it('flags a chain into a forbidden folder', () => {
    expect(chainInto(join(repoRoot, 'smoke/smoke-target.ts'), ['local'])?.at(-1)).toMatch(/^local\//);
    expect(chainInto(join(repoRoot, 'shared/contracts/ids.ts'), ['local', 'smoke'])).toBeUndefined();
  });

  it('cli/ reaches nothing under smoke/ or local/, directly or through its imports', () => {
    const files = tsFilesUnder('cli');
    expect(files.length).toBeGreaterThan(0);
    const offenders = files.map((f) => chainInto(f, ['smoke', 'local'])).filter((chain) => chain !== undefined);
    expect(offenders.map((chain) => chain.join(' -> '))).toEqual([]);
  });
});

describe('layout: shared/index/ names its DynamoDB side one way', () => {
  it('every module is a port (file-index.ts) or dynamodb-*.ts, and every adapter class is DynamoDb*', () => {
    const files = readdirSync(join(repoRoot, 'shared/index')).filter((f) => f.endsWith('.ts'));
    expect(files.filter((f) => f !== 'file-index.ts' && !f.startsWith('dynamodb-'))).toEqual([]);
    const classes = files.flatMap((f) =>
      [...readFileSync(join(repoRoot, 'shared/index', f), 'utf8').matchAll(/export class (\w+)/g)].map((m) => m[1]),
    );
    expect(classes.length).toBeGreaterThan(5);
    expect(classes.filter((c) => !c?.startsWith('DynamoDb') && !c?.endsWith('Error'))).toEqual([]);
  });

  it('every index-table key prefix is written in shared/contracts/table-keys.ts alone', () => {
    // Any key-like literal (`FILE#`, `TRAIL#`, a prefix added later), not only the ones known today.
    const prefix = /[`'][A-Z][A-Z_]*#/;
    const offenders = ['shared', 'lambdas', 'infra', 'cli', 'local']
      .flatMap((folder) => tsFilesUnder(folder))
      .filter((f) => !f.endsWith('shared/contracts/table-keys.ts'))
      // Comments may name a prefix; code must build keys through table-keys.ts.
      .filter((f) => prefix.test(readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')))
      .map((f) => relative(repoRoot, f));
    expect(offenders).toEqual([]);
  });
});

/** The import cycles among `files` (relative imports, type-only ones included), each as a list of paths. */
function importCycles(files: string[], root = join(repoRoot, 'shared')): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const next = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (!next.startsWith(root)) continue;
      if (state.get(next) === 'open')
        cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => relative(repoRoot, f)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return cycles;
}

describe('layout: shared/ has no import cycle', () => {
  it('finds a cycle when there is one, a type-only import included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'layout-cycle-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = b;\n");
      writeFileSync(join(dir, 'b.ts'), "import type { A } from './a.js';\nexport const b = 1;\n");
      expect(importCycles([join(dir, 'a.ts')], dir)).toEqual([
        [
          relative(repoRoot, join(dir, 'a.ts')),
          relative(repoRoot, join(dir, 'b.ts')),
          relative(repoRoot, join(dir, 'a.ts')),
        ],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no module of shared/ reaches itself through its imports', () => {
    expect(importCycles(tsFilesUnder('shared')).map((c) => c.join(' -> '))).toEqual([]);
  });
});
