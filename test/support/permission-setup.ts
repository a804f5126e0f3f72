/**
 * Setup file of the integration project: after each test (and after a file's last hooks), every AWS
 * call the handlers made is checked against the permissions the CDK app grants their roles (see
 * test/support/permissions/). A call the deployed role would be refused fails the test that made it,
 * with the action, the resource ARN and the call that needed it.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, inject } from 'vitest';
import { takeUncheckedCalls } from './permissions/aws-call-recorder.js';
import { checkCalls, type ActionUse } from './permissions/permission-check.js';

const used: ActionUse[] = [];

async function expectRecordedCallsAllowed(): Promise<void> {
  const result = await checkCalls(takeUncheckedCalls(), inject('deployedPermissions'));
  used.push(...result.used);
  if (result.denials.length > 0) {
    throw new Error(`AWS calls the deployed permissions do not allow:\n- ${result.denials.join('\n- ')}`);
  }
}

afterEach(expectRecordedCallsAllowed);
afterAll(async () => {
  try {
    await expectRecordedCallsAllowed();
  } finally {
    const unique = [...new Map(used.map((u) => [JSON.stringify(u), u])).values()];
    await writeFile(join(inject('permissionUsageDir'), `${randomUUID()}.json`), JSON.stringify(unique));
  }
});
