import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anchorsOf, brokenReferences, referencesIn } from '../support/doc-references.js';

// Every repository path the README and docs/*.md name exists, and every relative link reaches its
// file and heading: a moved or renamed file, or a moved section, fails here with the line that names it.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = [
  'README.md',
  ...readdirSync(new URL('../../docs', import.meta.url))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('repository paths named in the docs', () => {
  it('every backticked path and relative link in README.md and docs/*.md exists', () => {
    expect(brokenReferences(ROOT, DOCS)).toEqual([]);
  });

  it('every docs/*.md opens with its title and then one line saying who it is for', () => {
    const openings = DOCS.filter((d) => d.startsWith('docs/')).map((doc) => {
      const [title = '', blank = '', reader = ''] = readFileSync(join(ROOT, doc), 'utf8').split('\n');
      return { doc, opens: title.startsWith('# ') && blank === '' && /^For [^\n]+$/.test(reader) };
    });
    expect(openings.filter((o) => !o.opens).map((o) => o.doc)).toEqual([]);
  });

  it('finds backticked paths and relative links (a bare #heading too), not commands, placeholders or URLs', () => {
    const md = [
      'The use case is `shared/ingest/archive-file.ts`; the boxes are `shared/<box>/`; S3 keys start `archive/`.',
      'See [the alarms](deployment.md#alarms), [the API](https://example.com/x) and [above](#top).',
      '```sh',
      'cat shared/not-a-reference.ts `shared/also-not.ts`',
      '```',
      'Handlers: `lambdas/*/handler.ts`, at `local/start.ts:290`.',
    ].join('\n');
    const refs = referencesIn(md, 'docs/x.md', ['shared', 'lambdas', 'local']);
    expect(refs.map((r) => [r.kind, r.path, r.anchor, r.line])).toEqual([
      ['code', 'shared/ingest/archive-file.ts', undefined, 1],
      ['link', 'docs/deployment.md', 'alarms', 2],
      ['link', 'docs/x.md', 'top', 2],
      ['code', 'lambdas/*/handler.ts', undefined, 6],
      ['code', 'local/start.ts', undefined, 6],
    ]);
  });

  it('reports a missing file, a glob that matches nothing and a missing heading, naming each', () => {
    const fixture = 'test/support/fixtures/doc-with-broken-paths.md';
    expect(brokenReferences(ROOT, [fixture])).toEqual([
      `${fixture}:3: shared/ingest/no-such-file.ts (no such file: shared/ingest/no-such-file.ts)`,
      `${fixture}:4: lambdas/*/no-such-handler.ts (no such file: lambdas/*/no-such-handler.ts)`,
      `${fixture}:5: ../../../docs/nowhere.md (no such file: docs/nowhere.md)`,
      `${fixture}:6: ../../../docs/failures.md#no-such-heading (no heading #no-such-heading in docs/failures.md)`,
      `${fixture}:7: #nowhere-here (no heading #nowhere-here in ${fixture})`,
    ]);
  });

  it('computes heading anchors as GitHub does', () => {
    const anchors = anchorsOf(
      '# The `archiver` CLI\n## Webhook: create and rotate the secret\n## Webhook: create and rotate the secret\n',
    );
    expect([...anchors]).toEqual([
      'the-archiver-cli',
      'webhook-create-and-rotate-the-secret',
      'webhook-create-and-rotate-the-secret-1',
    ]);
  });
});
