/**
 * A stand-in parent for the "s3rver dies with its parent" test: starts s3rver under the directory
 * given as argv[2], prints `{"pid":…,"port":…}` on one line, then idles until it is killed.
 */
import { startS3rver } from '../../local/aws/s3rver-server.js';

const directory = process.argv[2];
if (!directory) throw new Error('usage: s3rver-parent-process.ts <directory>');
const server = await startS3rver({ directory });
process.stdout.write(`${JSON.stringify({ pid: server.pid, port: server.port })}\n`);
setInterval(() => {}, 60_000);
