/**
 * Runs s3rver in its own process. s3rver needs `--openssl-legacy-provider` (its ListObjectsV2
 * continuation tokens use a cipher that OpenSSL 3 only offers through the legacy provider), and that
 * flag can only be given when a process starts, so `startS3rver` in s3rver-server.ts forks this script
 * with it. The parent learns the port over IPC; when the IPC channel closes (the parent stopped us,
 * exited or was killed) this process closes the server and exits, so it never outlives its parent.
 *
 * Usage (by startS3rver only):
 *   node --import tsx local/aws/s3rver-process.ts --directory DIR [--port N] [--write-log FILE]
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import S3rver from 's3rver';
import { LOOPBACK_HOST } from '../loopback.js';

/** The one message this process sends its parent. */
export interface S3rverReadyMessage {
  type: 's3rver-ready';
  port: number;
}

async function runS3rverProcess(): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) {
    console.error('s3rver-process must be started by startS3rver (it needs an IPC channel)');
    process.exit(2);
  }
  const { values } = parseArgs({
    options: { directory: { type: 'string' }, port: { type: 'string', default: '0' }, 'write-log': { type: 'string' } },
  });
  if (!values.directory) throw new Error('--directory is required');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');

  const server = new S3rver({
    address: LOOPBACK_HOST,
    port,
    directory: values.directory,
    silent: true,
  });
  const writeLog = values['write-log'];
  if (writeLog) server.on('event', (event: unknown) => appendToWriteLog(writeLog, event));
  const address = await server.run();

  let closing = false;
  const shutDown = (): void => {
    if (closing) return;
    closing = true;
    // Exit even if a client holds a keep-alive connection open: nothing here needs a graceful drain.
    const force = setTimeout(() => process.exit(0), 1_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('disconnect', shutDown);
  // The parent starts this process in its own process group (s3rver-server.ts), so a terminal's
  // Ctrl-C or a group-wide SIGTERM does not reach it: the parent decides when S3 stops (after
  // running jobs finished) and closes the IPC channel then. A signal sent to this pid alone still
  // stops it (SIGTERM) or is ignored (SIGINT), in case it is ever started in the parent's group.
  process.on('SIGTERM', shutDown);
  process.on('SIGINT', () => {});

  const ready: S3rverReadyMessage = { type: 's3rver-ready', port: address.port };
  send(ready);
}

/**
 * s3rver keeps no versions: a second write to a key replaces the first without a trace. The write log
 * keeps that trace, one JSON line per object created or deleted, appended synchronously before
 * s3rver answers the request, so every write a client saw acknowledged is in it.
 */
function appendToWriteLog(file: string, event: unknown): void {
  const records =
    (
      event as {
        Records?: {
          eventTime?: string;
          eventName?: string;
          s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number; eTag?: string } };
        }[];
      }
    ).Records ?? [];
  for (const r of records) {
    const line = {
      time: r.eventTime,
      event: r.eventName,
      bucket: r.s3?.bucket?.name,
      key: r.s3?.object?.key,
      size: r.s3?.object?.size,
      etag: r.s3?.object?.eTag,
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }
}

runS3rverProcess().catch((err: unknown) => {
  console.error('s3rver-process failed:', err);
  process.exit(1);
});
