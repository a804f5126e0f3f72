import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOOKUP_ROUTES } from '../../shared/contracts/lookup-routes.js';
import type { RouteKey } from '../../shared/contracts/lookup-routes.js';
import { LOOKUP_HANDLERS } from '../../shared/lookup/lookup-http.js';

const routeKeyOf = (route: { method: string; resource: string }) => `${route.method} ${route.resource}` as RouteKey;

describe('OpenAPI document of the lookup API', () => {
  const doc = JSON.parse(readFileSync(new URL('../../docs/lookup-openapi.json', import.meta.url), 'utf8')) as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
  };
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${path}`,
      parameters: op.parameters ?? [],
    })),
  );

  it("documents exactly the routes in the handler's dispatch table", () => {
    expect(documented.map((d) => d.key).sort()).toEqual(Object.keys(LOOKUP_HANDLERS).sort());
  });

  it('serves exactly the routes of the contract that the CDK API and the local server expose', () => {
    expect(Object.keys(LOOKUP_HANDLERS).sort()).toEqual(LOOKUP_ROUTES.map(routeKeyOf).sort());
  });

  it('documents exactly the path and query parameters each handler validates', () => {
    for (const { key, parameters } of documented) {
      const handler = LOOKUP_HANDLERS[key as RouteKey];
      const resource = key.split(' ')[1] ?? '';
      const templateParams = [...resource.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(
        parameters.filter((p) => p.in === 'path').map((p) => p.name),
        key,
      ).toEqual(Object.keys(handler.path.shape));
      expect(Object.keys(handler.path.shape), key).toEqual(templateParams);
      expect(
        parameters.filter((p) => p.in === 'query').map((p) => p.name),
        key,
      ).toEqual(Object.keys(handler.query.shape));
    }
  });

  it("keeps the contract's query parameters, which the CDK API declares, equal to the handler's", () => {
    for (const route of LOOKUP_ROUTES) {
      expect(Object.keys(LOOKUP_HANDLERS[routeKeyOf(route)].query.shape), route.resource).toEqual([...route.query]);
    }
  });
});
