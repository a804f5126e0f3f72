/**
 * A stand-in parent for the s3rver lifecycle tests: starts s3rver under the directory given as
 * argv[2], prints `{"pid":…,"port":…}` on one line, then idles until it is killed.
 * With `--drain` as argv[3], it stops the way `npm start` does: on SIGINT or SIGTERM it first drains
 * (here: 1 s), then checks, still draining, whether s3rver answers (prints `{"duringDrain":"open"}`
 * or the connect error's code), then stops s3rver and exits 0.
 */
import { connect } from 'node:net';
import { startS3rver } from '../../local/aws/s3rver-server.js';

const directory = process.argv[2];
if (!directory) throw new Error('usage: s3rver-parent-process.ts <directory> [--drain]');
const server = await startS3rver({ directory });
const idle = setInterval(() => {}, 60_000);

if (process.argv[3] === '--drain') {
  let draining = false;
  const drain = async (): Promise<void> => {
    if (draining) return;
    draining = true;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const duringDrain = await new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('open');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    process.stdout.write(`${JSON.stringify({ duringDrain })}\n`);
    await server.stop();
    clearInterval(idle);
    process.exit(0);
  };
  process.on('SIGINT', () => void drain());
  process.on('SIGTERM', () => void drain());
}
// Only now, with the handlers in place: the test signals as soon as it reads this line.
process.stdout.write(`${JSON.stringify({ pid: server.pid, port: server.port })}\n`);
