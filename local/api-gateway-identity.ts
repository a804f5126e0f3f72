import type { APIGatewayEventIdentity } from 'aws-lambda';

/**
 * The `requestContext.identity` of a local API Gateway event, as API Gateway fills it for a REST API:
 * with IAM authorization `caller`, `user` and `userArn` name the signing principal; without it they
 * are null. Every other field is null locally (no API key, Cognito or client certificate).
 */
export function localIdentity(opts: {
  caller: string | null;
  sourceIp: string;
  userAgent: string | null;
}): APIGatewayEventIdentity {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: opts.caller,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: opts.sourceIp,
    user: opts.caller,
    userAgent: opts.userAgent,
    userArn: opts.caller,
  };
}
