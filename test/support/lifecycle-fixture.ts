/**
 * A process that manages its end with manageProcessLifecycle, for local-process-lifecycle.test.ts.
 * argv[2] picks what goes wrong: `throw` (an uncaught exception), `reject` (an unhandled rejection),
 * `fail` (a component reports a failure), `slow-stop` (stopping never finishes), or `none`.
 * It prints `ready` when it is up and `stop: <reason>` when its stop function runs.
 */
import { manageProcessLifecycle } from '../../local/process-lifecycle.js';
import { createConsoleLog } from '../../local/console-log.js';

const mode = process.argv[2] ?? 'none';
const lifecycle = manageProcessLifecycle(createConsoleLog('fixture'), { hardLimitMs: 1_500 });
const keepAlive = setInterval(() => {}, 1_000);
lifecycle.setStop(async (reason) => {
  console.log(`stop: ${reason}`);
  if (mode === 'slow-stop') await new Promise(() => {});
  clearInterval(keepAlive);
});
console.log('ready');
setTimeout(() => {
  if (mode === 'throw') throw new Error('boom in a timer');
  if (mode === 'reject') void Promise.reject(new Error('nobody handled this'));
  if (mode === 'fail') lifecycle.fail('the S3 server exited unexpectedly (code 1)');
}, 50);
