/**
 * A chat poller run in a process of its own, built as the Lambda builds it (createPollerRuntime),
 * configured from the environment; the kill test SIGKILLs it mid-run. Prints `started` once running.
 */
import { createPollerRuntime } from '../../lambdas/discovery/runtime.js';
import { DiscoveryConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';

const config = loadConfig(DiscoveryConfigSchema, process.env);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const run = createPollerRuntime('chats', config, {
  apiKey: config.ANTHROPIC_API_KEY ?? '',
  log: quiet,
  counters: { record() {} },
});
process.stdout.write('started\n');
const outcome = await run({ getRemainingTimeInMillis: () => 300_000 });
process.stdout.write(`${outcome.kind}\n`);
