import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles only (the esbuild alias in
 * infra/constructs/archiver-function.ts); everything else (the local stack, tests, the CLI) keeps
 * the SDK's full chain.
 *
 * Every SDK client's Node configuration imports `defaultProvider` from that package, and the chain
 * behind it (profile files, SSO, the login and web identity providers with the STS and SSO clients
 * they carry, process credentials, container and instance metadata) is about 100 KiB of each
 * bundle and of each cold start. A Lambda function needs none of it: "Lambda ... obtains temporary
 * credentials by assuming the function's execution role" and sets them in the environment as
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * and the SDK's own chain reads exactly those first (`fromEnv`), without an expiry, so the
 * clients resolve the same credentials they resolved with the full chain.
 *
 * The signature is the chain's: the clients pass their logger and profile options, of which the
 * environment provider uses the logger.
 */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);
