import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { RecordedCall } from './aws-call-recorder.js';
import type { DeployedPermissions, PrincipalName } from './deployed-permissions.js';
import { iamRequestsFor, type IamRequest } from './iam-requests.js';

/** An action a principal was seen to need, on which deployed resource: the least-privilege report's evidence. */
export interface ActionUse {
  principal: PrincipalName;
  action: string;
  resource: string;
}

export interface CheckResult {
  /** One line per request the deployed policies do not allow, or per call that could not be mapped. */
  denials: string[];
  used: ActionUse[];
}

const decisions = new Map<string, Promise<string | undefined>>();

/**
 * Runs each recorded call's IAM requests through the policy simulator with the principal's
 * synthesized identity policies and the resource's policy (bucket or queue policy; for KMS the key
 * policy, which must itself let the account's IAM policies grant use of the key). Identical requests
 * are simulated once per process.
 */
export async function checkCalls(calls: RecordedCall[], deployed: DeployedPermissions): Promise<CheckResult> {
  const denials: string[] = [];
  const used: ActionUse[] = [];
  for (const call of calls) {
    let requests: IamRequest[];
    try {
      requests = iamRequestsFor(call, deployed);
    } catch (err) {
      denials.push(err instanceof Error ? err.message : String(err));
      continue;
    }
    for (const request of requests) {
      const denial = await decide(call.principal, request, deployed);
      if (denial) denials.push(denial);
      else used.push({ principal: call.principal, action: request.action, resource: request.resource });
    }
  }
  return { denials: [...new Set(denials)], used };
}

function decide(
  principal: PrincipalName,
  request: IamRequest,
  deployed: DeployedPermissions,
): Promise<string | undefined> {
  const cacheKey = JSON.stringify([principal, request.action, request.resource, request.context]);
  let decision = decisions.get(cacheKey);
  if (!decision) {
    decision = simulate(principal, request, deployed);
    decisions.set(cacheKey, decision);
  }
  return decision.then((d) => d && `${d} — needed by ${request.because}`);
}

async function simulate(
  principal: PrincipalName,
  request: IamRequest,
  deployed: DeployedPermissions,
): Promise<string | undefined> {
  const who = deployed.principals[principal];
  const resource = deployed.resources[request.on];
  const resourcePolicy = request.kmsKey ? deployed.keyPolicies[request.resource] : resource.resourcePolicy;
  const simulation = {
    identityPolicies: who.policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(resourcePolicy ? { resourcePolicy } : {}),
    request: {
      action: request.action,
      principal: who.arn,
      resource: { resource: request.resource, accountId: deployed.account },
      contextVariables: request.context,
    },
  } as unknown as Simulation;
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    return (
      `the policy simulator refused ${principal} ${request.action} ` +
      `on ${request.resource}: ${JSON.stringify(result.errors)}`
    );
  }
  if (result.overallResult === 'Allowed') return undefined;
  return (
    `the deployed ${principal} role is not allowed ${request.action} ` +
    `on ${request.resource} (${result.overallResult})`
  );
}
