import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** `engines.node` of package.json, e.g. ">=24". */
function requiredMajor(): number {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    engines?: { node?: string };
    devDependencies?: Record<string, string>;
  };
  const match = /^>=(\d+)$/.exec(pkg.engines?.node ?? '');
  if (!match?.[1]) throw new Error(`engines.node should read ">=N", not ${JSON.stringify(pkg.engines?.node)}`);
  return Number(match[1]);
}

describe('the Node the tests run on', () => {
  it('is the pinned Node 24 (node_modules/.bin/node), not an older machine node', () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(requiredMajor()).toBe(24);
    expect(major, `tests run on ${process.version}`).toBeGreaterThanOrEqual(requiredMajor());
  });
});
