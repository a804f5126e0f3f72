import { buildApp } from 'fauxqs';
import { LOOPBACK_HOST } from '../loopback.js';
import { LOCAL_REGION } from './local-account.js';
import { callOnce, type RunningServer } from './running-server.js';

/** Starts fauxqs (SQS, S3 in memory, SNS) on 127.0.0.1; its CLI would bind every interface. */
export async function startFauxqsServer(opts: { port?: number } = {}): Promise<RunningServer> {
  const app = buildApp({ logger: false, defaultRegion: LOCAL_REGION });
  const address = await app.listen({ port: opts.port ?? 0, host: LOOPBACK_HOST });
  const port = Number(new URL(address).port);
  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    port,
    stop: callOnce(async () => {
      const closing = app.close();
      // A long-polling ReceiveMessage would otherwise hold close() for up to 20 s.
      app.server.closeAllConnections();
      await closing;
    }),
  };
}
