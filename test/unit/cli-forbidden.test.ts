import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLookupClient, neededPolicy } from '../../cli/lookup-client.js';

// A 403 from API Gateway names no route: the CLI must say which of the stack's policies the refused
// route needs (its roles in shared/contracts/lookup-routes.ts), not always the auditor's.
describe("the CLI's 403 message", () => {
  let url = '';
  const server = createServer((req, res) => {
    // API Gateway's own refusal of an unauthorized principal.
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: `User is not authorized to access this resource (${req.method})` }));
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const refusal = async (call: Promise<unknown>): Promise<string> => {
    const err = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    return (err as Error).message;
  };

  it('names the legal admin policy alone for holds and exports', async () => {
    const client = createLookupClient({ url, signWithRegion: undefined });
    for (const call of [
      client.placeHold({ matterId: 'm-1' }),
      client.releaseHold('m-1'),
      client.startExport({ matterId: 'm-1' }),
      client.getExport('exp_0123'),
    ]) {
      const message = await refusal(call);
      expect(message).toContain('(403)');
      expect(message).toContain("needs the stack's legal admin (LegalAdminPolicyArn) policy");
      expect(message).not.toContain('auditor');
    }
  });

  it('names the auditor or legal admin policy for reads, and adds the operator for the discovery ledger', async () => {
    const client = createLookupClient({ url, signWithRegion: undefined });
    const read = await refusal(client.getFile('file_011CNha8iCJcU1wXNR6q4V8w'));
    expect(read).toContain(
      "GET /files/{fileId} needs the stack's auditor (AuditorPolicyArn) or legal admin (LegalAdminPolicyArn) policy",
    );
    expect(neededPolicy('GET', 'discovery/chats/runs')).toBe(
      "GET /discovery/{source}/runs needs the stack's auditor (AuditorPolicyArn), legal admin (LegalAdminPolicyArn) " +
        'or operator (OperatorPolicyArn) policy (execute-api:Invoke)',
    );
  });

  it('says so when the path is no route of the API', () => {
    expect(neededPolicy('PUT', '/files/x')).toContain('a policy of this stack that grants this route');
    expect(neededPolicy('GET', '/files/x/y/z')).toContain('a policy of this stack that grants this route');
  });
});
