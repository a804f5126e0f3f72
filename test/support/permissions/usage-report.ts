import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeployedPermissions, PrincipalName } from './deployed-permissions.js';
import type { ActionUse } from './permission-check.js';

export interface GrantUse {
  principal: PrincipalName;
  action: string;
  resource: string;
  /** How many distinct (action, resource) requests of the run this grant allowed. */
  uses: number;
}

/**
 * Least-privilege evidence: every action each principal's synthesized policies allow, with how often
 * the suite's recorded calls needed it. Written as JSON to `target` (and a summary of the grants no
 * call needed printed) when ARCHIVER_PERMISSIONS_REPORT names a file; meaningful after a full
 * integration run, since a filtered run exercises fewer calls.
 */
export async function reportUnusedGrants(
  deployed: DeployedPermissions,
  usageDir: string,
  target: string | undefined,
): Promise<void> {
  if (!target) return;
  const used: ActionUse[] = [];
  for (const file of await readdir(usageDir))
    used.push(...(JSON.parse(await readFile(join(usageDir, file), 'utf8')) as ActionUse[]));
  const grants: GrantUse[] = [];
  for (const [principal, { policies }] of Object.entries(deployed.principals) as [
    PrincipalName,
    DeployedPermissions['principals'][PrincipalName],
  ][]) {
    for (const { policy } of policies) {
      for (const s of policy.Statement) {
        if (s.Effect !== 'Allow') continue;
        for (const action of asArray(s.Action)) {
          for (const resource of asArray(s.Resource)) {
            const matching = used.filter(
              (u) => u.principal === principal && u.action === action && globMatches(resource, u.resource),
            );
            grants.push({ principal, action, resource, uses: new Set(matching.map((u) => u.resource)).size });
          }
        }
      }
    }
  }
  await writeFile(target, JSON.stringify(grants, null, 2));
  const unused = grants.filter((g) => g.uses === 0).map((g) => `${g.principal} ${g.action} on ${g.resource}`);
  console.log(
    `deployed permissions: ${grants.length - unused.length} of ${grants.length} ` +
      `grants used; never needed by a recorded call:\n  ${unused.join('\n  ')}`,
  );
}

function asArray(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function globMatches(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(value);
}
