/**
 * SigV4 in the browser: every call to the deployed lookup API is signed for `execute-api` with the
 * signed-in user's temporary credentials (API Gateway AWS_IAM authorization). aws4fetch is a small
 * maintained signer built on Web Crypto, so the console carries no AWS SDK.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
 */
import { AwsClient } from 'aws4fetch';
import type { Send } from './client.js';

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** When they stop working (ms since the epoch). */
  expiresAt: number;
}

/** A sender that signs each request; `credentials()` is asked before each one (it refreshes them). */
export function createSigningSend(
  region: string,
  credentials: () => Promise<TemporaryCredentials>,
  fetchImpl: typeof fetch = fetch,
): Send {
  return async (url, init) => {
    const c = await credentials();
    const client = new AwsClient({
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
      service: 'execute-api',
      region,
      retries: 0,
    });
    const signed = await client.sign(url, init);
    return fetchImpl(signed);
  };
}
