import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOOKUP_ROUTES } from '../../shared/contracts/lookup-routes.js';

describe('OpenAPI document of the lookup API', () => {
  const doc = JSON.parse(readFileSync(new URL('../../docs/lookup-openapi.json', import.meta.url), 'utf8')) as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
  };

  it('documents exactly the routes the handler serves', () => {
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const served = LOOKUP_ROUTES.map((r) => `${r.method} ${r.resource}`).sort();
    expect(documented).toEqual(served);
  });

  it('documents exactly the path and query parameters of each route', () => {
    for (const route of LOOKUP_ROUTES) {
      const params = doc.paths[route.resource]?.[route.method.toLowerCase()]?.parameters ?? [];
      const pathParams = [...route.resource.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(params.filter((p) => p.in === 'path').map((p) => p.name), route.resource).toEqual(pathParams);
      expect(params.filter((p) => p.in === 'query').map((p) => p.name), route.resource).toEqual([...route.query]);
    }
  });
});
