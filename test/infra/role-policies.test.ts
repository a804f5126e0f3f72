import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { LOOKUP_ROLES, LOOKUP_ROUTES, type LookupRole } from '../../shared/contracts/lookup-routes.js';
import { LOOKUP_STAGE } from '../../infra/constructs/lookup-rest-api.js';
import { synthesizeDeployedPermissions } from '../support/permissions/deployed-permissions.js';

/**
 * The three role policies the stack ships (auditor, legal admin, operator), as deployed: each is run
 * through the IAM policy simulator against every route of the lookup API (with a concrete id in each
 * path parameter) and must allow exactly the routes whose `roles` list it, and no route of another
 * stage. IAM for API Gateway: a caller needs execute-api:Invoke on
 * arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path> ("Control access for
 * invoking an API", API Gateway Developer Guide).
 */
const deployed = synthesizeDeployedPermissions();

/** A concrete request path for a route: each `{name}` filled with a plausible id. */
function concretePath(resource: string): string {
  return resource.replace(/\{([^}]+)\}/g, (_m, name: string) => (name === 'source' ? 'chats' : `${name}_0001`));
}

async function allowed(role: LookupRole, method: string, path: string, stage = LOOKUP_STAGE): Promise<boolean> {
  const who = deployed.principals[role];
  const result = await runSimulation(
    {
      identityPolicies: who.policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action: 'execute-api:Invoke',
        principal: who.arn,
        resource: { resource: `${deployed.lookupApiArn}/${stage}/${method}${path}`, accountId: deployed.account },
        contextVariables: {},
      },
    } as unknown as Simulation,
    {},
  );
  if (result.resultType === 'error') throw new Error(`the simulator refused the request: ${JSON.stringify(result)}`);
  return result.overallResult === 'Allowed';
}

describe('the role policies on the lookup API (IAM policy simulator)', () => {
  it('every route declares at least one role, and every route an auditor may call is a legal admin route too', () => {
    for (const route of LOOKUP_ROUTES) {
      const roles = route.roles as readonly LookupRole[];
      expect(roles.length, `${route.method} ${route.resource}`).toBeGreaterThan(0);
      if (roles.includes('auditor')) expect(roles, `${route.method} ${route.resource}`).toContain('legalAdmin');
    }
  });

  for (const role of LOOKUP_ROLES) {
    it(`${role}: allowed exactly the routes that list the role`, async () => {
      const decisions: Record<string, boolean> = {};
      const expected: Record<string, boolean> = {};
      for (const route of LOOKUP_ROUTES) {
        const key = `${route.method} ${route.resource}`;
        decisions[key] = await allowed(role, route.method, concretePath(route.resource));
        expected[key] = (route.roles as readonly LookupRole[]).includes(role);
      }
      expect(decisions).toEqual(expected);
      // Each policy allows something, so the equality above is not all-false by accident.
      expect(Object.values(decisions)).toContain(true);
    });

    it(`${role}: no route on another stage, and no other method on its routes`, async () => {
      for (const route of LOOKUP_ROUTES) {
        const path = concretePath(route.resource);
        expect(await allowed(role, route.method, path, 'test')).toBe(false);
        const method: string = route.method;
        const other = method === 'DELETE' ? 'PUT' : 'DELETE';
        if (!LOOKUP_ROUTES.some((r) => (r.method as string) === other && r.resource === route.resource))
          expect(await allowed(role, other, path)).toBe(false);
      }
    });
  }
});
