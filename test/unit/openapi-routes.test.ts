import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOOKUP_ROUTES } from '../../lambdas/lookup/lookup-api.js';

describe('OpenAPI document of the lookup API', () => {
  const doc = JSON.parse(readFileSync(new URL('../../docs/lookup-openapi.json', import.meta.url), 'utf8')) as {
    paths: Record<string, Record<string, unknown>>;
  };

  it('documents exactly the routes the handler serves', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const served = LOOKUP_ROUTES.map((r) => `${r.method} ${r.resource}`).sort();
    expect(documented).toEqual(served);
  });
});
